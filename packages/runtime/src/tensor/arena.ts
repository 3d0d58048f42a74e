import { ArenaExhaustedError } from '../errors.ts';
import { CACHE_LINE as ALIGN, roundUp } from '../memory/align.ts';
import { type DType, bytesPerElement } from './dtype.ts';
import { Tensor, allocateShared, elementCount } from './tensor.ts';

export interface ArenaOptions {
  /** Names the owner in errors, e.g. the actor id. */
  readonly name: string;
  /** Fixed byte budget. */
  readonly bytes: number;
  /** Memory to carve from (e.g. a shared WebAssembly.Memory's buffer); a fresh SharedArrayBuffer if absent. */
  readonly buffer?: SharedArrayBuffer | ArrayBuffer;
  /** Where the arena starts in `buffer`. */
  readonly byteOffset?: number;
}

export interface AllocOptions {
  /** Zero the memory (default). A caller that overwrites every element says false and skips a pass. */
  readonly zero?: boolean;
  /** `allocWhenFree` only: stop waiting (rejecting with the signal's reason) when this aborts. */
  readonly signal?: AbortSignal;
}

/** One tensor of an `allocAllWhenFree` request. */
export interface AllocRequest {
  readonly shape: readonly number[];
  readonly dtype?: DType;
}

/** One `allocAllWhenFree` call waiting for memory; served in arrival order. */
interface Waiter {
  readonly requests: readonly AllocRequest[];
  readonly options: AllocOptions;
  readonly resolve: (tensors: Tensor[]) => void;
}

interface Block {
  offset: number;
  size: number;
}


/**
 * A fixed budget of tensor memory for one actor: first-fit allocation with coalescing frees.
 * Never grows. `alloc` beyond the budget throws; `allocWhenFree` waits for a `free` (backpressure). Waiters
 * are served first come, first served: a later small request never overtakes an earlier large one, so the
 * large one cannot starve.
 */
export class Arena {
  readonly name: string;
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  readonly byteOffset: number;
  readonly budgetBytes: number;
  private readonly freeList: Block[];
  private readonly live = new Map<number, number>(); // offset → size
  private readonly waiters: Waiter[] = [];
  private usedBytes = 0;
  private peak = 0;

  constructor(options: ArenaOptions) {
    const offset = options.byteOffset ?? 0;
    if (!Number.isInteger(options.bytes) || options.bytes <= 0) {
      throw new RangeError(`arena "${options.name}": budget must be a positive integer of bytes, got ${options.bytes}`);
    }
    if (offset % ALIGN !== 0) throw new RangeError(`arena "${options.name}": byteOffset ${offset} is not ${ALIGN}-aligned`);
    this.name = options.name;
    this.buffer = options.buffer ?? allocateShared(options.bytes, `arena "${options.name}"`);
    if (offset + options.bytes > this.buffer.byteLength) {
      throw new RangeError(
        `arena "${options.name}": ${options.bytes} bytes at ${offset} do not fit a ${this.buffer.byteLength}-byte buffer`,
      );
    }
    this.byteOffset = offset;
    this.budgetBytes = options.bytes;
    this.freeList = [{ offset, size: options.bytes }];
  }

  get used(): number {
    return this.usedBytes;
  }

  get peakUsed(): number {
    return this.peak;
  }

  get free(): number {
    return this.budgetBytes - this.usedBytes;
  }

  /** Whether `t` lives in this arena's memory (so a kernel bound to it can read it in place). */
  owns(t: Tensor): boolean {
    return t.buffer === this.buffer && t.byteOffset >= this.byteOffset && t.byteOffset + t.byteLength <= this.byteOffset + this.budgetBytes;
  }

  /** A tensor in the arena (zeroed unless told not to); throws ArenaExhaustedError when it does not fit. */
  alloc(shape: readonly number[], dtype: DType = 'f32', options: AllocOptions = {}): Tensor {
    const t = this.tryAlloc(shape, dtype, options);
    if (!t) throw new ArenaExhaustedError(this.name, this.sizeFor(shape, dtype), this.free, this.budgetBytes);
    return t;
  }

  /**
   * Like `alloc`, but waits until enough is freed, behind every earlier waiter. Rejects at once if the request
   * can never fit, and with `options.signal`'s reason if it aborts first (the request leaves the queue).
   */
  async allocWhenFree(shape: readonly number[], dtype: DType = 'f32', options: AllocOptions = {}): Promise<Tensor> {
    const [t] = await this.allocAllWhenFree([{ shape, dtype }], options);
    return t;
  }

  /**
   * Several tensors at once, all or nothing, waiting like `allocWhenFree`. Two callers that each need several
   * tensors cannot deadlock holding half of what they need.
   */
  allocAllWhenFree(requests: readonly AllocRequest[], options: AllocOptions = {}): Promise<Tensor[]> {
    const bytes = requests.reduce((n, r) => n + this.sizeFor(r.shape, r.dtype ?? 'f32'), 0);
    if (bytes > this.budgetBytes) return Promise.reject(new ArenaExhaustedError(this.name, bytes, this.free, this.budgetBytes));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.waiters.length === 0) {
      const tensors = this.tryAllocAll(requests, options);
      if (tensors) return Promise.resolve(tensors);
    }
    return new Promise<Tensor[]>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i < 0) return;
        this.waiters.splice(i, 1);
        reject(signal?.reason);
        // The head may have been what held smaller requests behind it.
        if (i === 0) this.serveWaiters();
      };
      const waiter: Waiter = {
        requests,
        options,
        resolve: (tensors) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(tensors);
        },
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Requests still waiting in `allocWhenFree`. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Returns a tensor's memory. Freeing a row view or a tensor twice is an error, not silent corruption. */
  release(t: Tensor): void {
    const offset = t.byteOffset;
    const size = this.live.get(offset);
    if (t.buffer !== this.buffer || size === undefined) {
      throw new Error(`arena "${this.name}": ${t} at byte ${offset} was not allocated here (or was already released)`);
    }
    if (this.sizeFor(t.shape, t.dtype) !== size) {
      throw new Error(`arena "${this.name}": ${t} at byte ${offset} is a view of a ${size}-byte block; release the tensor that was allocated`);
    }
    this.giveBack(offset);
    this.serveWaiters();
  }

  /** Gives memory to waiters in arrival order, stopping at the first that does not fit yet. */
  private serveWaiters(): void {
    while (this.waiters.length > 0) {
      const head = this.waiters[0];
      const tensors = this.tryAllocAll(head.requests, head.options);
      if (!tensors) return;
      this.waiters.shift();
      head.resolve(tensors);
    }
  }

  /** Every request or none: what was taken is given back (without waking waiters) when one does not fit. */
  private tryAllocAll(requests: readonly AllocRequest[], options: AllocOptions): Tensor[] | undefined {
    const out: Tensor[] = [];
    const peak = this.peak;
    for (const r of requests) {
      const t = this.tryAlloc(r.shape, r.dtype ?? 'f32', options);
      if (!t) {
        for (const taken of out) this.giveBack(taken.byteOffset);
        this.peak = peak;
        return undefined;
      }
      out.push(t);
    }
    return out;
  }

  private sizeFor(shape: readonly number[], dtype: DType): number {
    const n = elementCount(shape);
    return Math.max(ALIGN, roundUp(n * bytesPerElement(dtype)));
  }

  private tryAlloc(shape: readonly number[], dtype: DType, options: AllocOptions): Tensor | undefined {
    const bytes = this.sizeFor(shape, dtype);
    const i = this.freeList.findIndex((b) => b.size >= bytes);
    if (i < 0) return undefined;
    const block = this.freeList[i];
    const offset = block.offset;
    if (block.size === bytes) this.freeList.splice(i, 1);
    else {
      block.offset += bytes;
      block.size -= bytes;
    }
    this.live.set(offset, bytes);
    this.usedBytes += bytes;
    this.peak = Math.max(this.peak, this.usedBytes);
    // Zero the whole 64-byte-aligned block through 8-byte words: filling a shared buffer through a
    // Uint16Array (bf16) or bytes is several times slower than the copy that usually follows.
    if (options.zero !== false) new Float64Array(this.buffer, offset, bytes / 8).fill(0);
    return Tensor.over(this.buffer, offset, shape, dtype);
  }

  private giveBack(offset: number): void {
    const size = this.live.get(offset) as number;
    this.live.delete(offset);
    this.usedBytes -= size;
    this.insertFree({ offset, size });
  }

  private insertFree(block: Block): void {
    const list = this.freeList;
    let i = 0;
    while (i < list.length && list[i].offset < block.offset) i++;
    list.splice(i, 0, block);
    // Coalesce with the neighbours so fragmentation does not eat the budget.
    if (i + 1 < list.length && block.offset + block.size === list[i + 1].offset) {
      block.size += list[i + 1].size;
      list.splice(i + 1, 1);
    }
    if (i > 0 && list[i - 1].offset + list[i - 1].size === block.offset) {
      list[i - 1].size += block.size;
      list.splice(i, 1);
    }
  }
}
