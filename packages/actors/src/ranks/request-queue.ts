// The requests a rank holds the attention of: queued prompts, the chunks a step takes from them, and their
// KV caches, allocated when a request's first chunk is taken and bounded by a byte budget.
import type { ModelConfig } from '../model/config/model-config.ts';
import { kvBytesPerToken } from '../model/forward/kv-cache.ts';
import type { RequestMeta } from './messages.ts';
import type { RankKv } from './rank-model.ts';

export interface HeldRequest {
  readonly meta: RequestMeta;
  readonly tokens: Int32Array;
  /** Positions handed to chunks so far (prefilled or in flight). */
  taken: number;
  kv: RankKv | undefined;
  cancelled: boolean;
  /** A chunk of it is being prefilled: the next chunk must wait for its KV (asap pipelines micro-batches). */
  busy: boolean;
}

/** A contiguous run of one request's prompt, prefilled in one pass through the layers. */
export interface Chunk {
  readonly request: HeldRequest;
  readonly start: number;
  readonly length: number;
}

export function isLastChunk(chunk: Chunk): boolean {
  return chunk.start + chunk.length === chunk.request.tokens.length;
}

export type QueueOrder = 'arrival' | 'deadline';

export class RequestQueue {
  private readonly held: HeldRequest[] = [];
  private kvBytesHeld = 0;
  private readonly kvBytesPerToken: number;

  constructor(
    config: ModelConfig,
    private readonly kvMemory: { newKv(capacity: number): RankKv; releaseKv(kv: RankKv): void },
    private readonly kvBudgetBytes: number,
    private readonly order: QueueOrder = 'arrival',
  ) {
    this.kvBytesPerToken = kvBytesPerToken(config);
  }

  add(meta: RequestMeta, tokens: Int32Array): void {
    const bytes = tokens.length * this.kvBytesPerToken;
    if (bytes > this.kvBudgetBytes) {
      throw new RangeError(`request ${meta.id}: its KV cache needs ${bytes} bytes, more than the rank's budget of ${this.kvBudgetBytes}`);
    }
    this.held.push({ meta, tokens, taken: 0, kv: undefined, cancelled: false, busy: false });
    if (this.order === 'deadline') this.held.sort((a, b) => (a.meta.deadlineMs ?? Infinity) - (b.meta.deadlineMs ?? Infinity) || a.meta.id - b.meta.id);
  }

  /** Tokens not yet handed to a chunk. */
  get queuedTokens(): number {
    let n = 0;
    for (const r of this.held) if (!r.cancelled) n += r.tokens.length - r.taken;
    return n;
  }

  /** Attention work not yet handed out: Σ tokens × the context they attend to. */
  get queuedAttentionWork(): number {
    let n = 0;
    for (const r of this.held) {
      if (r.cancelled) continue;
      const left = r.tokens.length - r.taken;
      n += left * (r.taken + (left + 1) / 2);
    }
    return n;
  }

  /** The earliest deadline of a request with tokens not yet handed out and no chunk in flight (Infinity: none). */
  earliestWaitingDeadline(): number {
    let at = Infinity;
    for (const r of this.held) {
      if (r.cancelled || r.busy || r.taken === r.tokens.length) continue;
      at = Math.min(at, r.meta.deadlineMs ?? Infinity);
    }
    return at;
  }

  get kvBytes(): number {
    return this.kvBytesHeld;
  }

  get size(): number {
    return this.held.length;
  }

  /**
   * Takes chunks in queue order up to `budget` tokens: a long prompt is cut at the budget and continues in
   * a later take. A request's KV is allocated when its first chunk is taken, if the budget allows.
   */
  take(budget: number): Chunk[] {
    const chunks: Chunk[] = [];
    let left = budget;
    for (const request of this.held) {
      if (left === 0) break;
      if (request.cancelled || request.busy || request.taken === request.tokens.length) continue;
      if (!request.kv) {
        const bytes = request.tokens.length * this.kvBytesPerToken;
        if (this.kvBytesHeld + bytes > this.kvBudgetBytes) break;
        request.kv = this.kvMemory.newKv(request.tokens.length);
        this.kvBytesHeld += bytes;
      }
      const length = Math.min(left, request.tokens.length - request.taken);
      chunks.push({ request, start: request.taken, length });
      request.taken += length;
      left -= length;
    }
    return chunks;
  }

  /** Forgets a request (finished, failed or cancelled) and frees its KV. */
  release(request: HeldRequest): void {
    const i = this.held.indexOf(request);
    if (i < 0) return;
    this.held.splice(i, 1);
    if (request.kv) {
      this.kvBytesHeld -= request.tokens.length * this.kvBytesPerToken;
      this.kvMemory.releaseKv(request.kv);
    }
    request.kv = undefined;
  }

  find(id: number): HeldRequest | undefined {
    return this.held.find((r) => r.meta.id === id);
  }

  /** Every request held, e.g. to fail them all. */
  all(): readonly HeldRequest[] {
    return [...this.held];
  }
}

/** Cuts a step's chunks into `count` micro-batches of (nearly) equal tokens, splitting a chunk where needed. */
export function splitMicroBatches(chunks: readonly Chunk[], count: number): Chunk[][] {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const batches: Chunk[][] = Array.from({ length: count }, () => []);
  let b = 0;
  let filled = 0;
  for (const chunk of chunks) {
    let start = chunk.start;
    let left = chunk.length;
    while (left > 0) {
      const quota = Math.ceil((total * (b + 1)) / count) - filled;
      if (quota <= 0 && b < count - 1) {
        b++;
        continue;
      }
      const length = b === count - 1 ? left : Math.min(left, quota);
      batches[b].push({ request: chunk.request, start, length });
      start += length;
      left -= length;
      filled += length;
    }
  }
  return batches;
}
