// The expert side of ASAP: rows arrive from any attention rank as one-sided puts; the rank batches whatever
// has arrived for one layer — earliest TTFT deadline first, waiting a bounded time for more when the batch
// is small — runs each expert once over the batch, and puts each source's outputs back. The batch grows
// with load: while one batch computes, the next one gathers.
import type { ActorContext, ActorId, ChannelMessage, Tensor } from '@asap/runtime';
import { type IncomingRows, groupRows, keepRows, restoreRows, rowsOf, rowsPerExpert, withRows } from './dispatch-rows.ts';
import type { CombineMeta, DispatchMeta } from './messages.ts';
import { ExpertConvoys } from './expert-convoys.ts';
import { expertsOp } from './op-costs.ts';
import { Wakeup } from './pull-queue.ts';
import type { RankCompute } from './rank-model.ts';
import type { Timeline } from './timeline.ts';

export interface ExpertRoleOptions {
  /** Batch across sources and requests, earliest deadline first (false: one dispatch at a time, in arrival order). */
  readonly continuousBatching: boolean;
  /** Most time the oldest waiting rows wait for a batch to fill, ms. */
  readonly batchWaitMs: number;
  /** A batch is run without waiting once it holds this many rows. */
  readonly batchRows: number;
  /**
   * Most time a layer's batch waits for the rest of its convoy (the dispatches served with it at the layer
   * before), ms, while the rank serves other ready layers. 0: no convoys, a batch is whatever has arrived.
   */
  readonly convoyWaitMs?: number;
  /**
   * Every ready layer's rows in one device op over (layer, expert) pairs, so the op's fixed cost is paid once
   * for all (the kernels run the layers back to back; false: one layer per op, the earliest deadline's).
   */
  readonly groupLayers?: boolean;
  /** Record idle time (false where the rank's attention side records it: colocated, both idle at once). */
  readonly recordIdle?: boolean;
}

/** A dispatch waiting for its batch; it is its own IncomingRows when none of its rows are dropped. */
interface Waiting extends IncomingRows {
  readonly from: ActorId;
  readonly meta: DispatchMeta;
  readonly arrivedMs: number;
  /** The meta's layer and deadline (Infinity: none), read per comparison and per scan: kept here, not a pointer away. */
  readonly layer: number;
  readonly deadlineMs: number;
  readonly rowCount: number;
  /** Attention rank and micro-batch (see `sourceKey`): what a convoy is made of. */
  readonly source: number;
  /** The convoy it came back with (-1: none). */
  readonly convoy: number;
  /** In the batch being taken (takeBatch). */
  taken: boolean;
}

/** Where the outputs go: a channel put, or straight into this actor's own attention side. */
export type CombineSink = (to: ActorId, message: ChannelMessage) => Promise<void>;

export class ExpertRole {
  /** Kept in byDeadline order under continuous batching (sorted on arrival, not per batch), else arrival order. */
  private readonly waiting: Waiting[] = [];
  /** Rows in `waiting`, kept as it changes (read per reply: no sum over the queue each time). */
  private waitingRows = 0;
  private readonly wake = new Wakeup();
  private readonly cancelled = new Set<number>();
  private stopped = false;
  private readonly convoys: ExpertConvoys | undefined;
  /** Each attention rank's number here, in order of its first dispatch: convoy sources are numbers, not strings built per dispatch. */
  private readonly sourceRanks = new Map<ActorId, number>();
  private readonly lastMoeLayer: number;
  /** MoE layers from each layer to the last, that one included. */
  private readonly moeLayersLeft: number[];
  /** Per layer, readyLayer's scratch: the call (stamp) that last saw it, held it, or found it waiting for its convoy. */
  private readonly seenAt: Int32Array;
  private readonly heldAt: Int32Array;
  private readonly convoyAt: Int32Array;
  private stamp = 0;
  calls = 0;
  rows = 0;
  batches = 0;
  /** Dispatches not computed at all, and rows left out of the others, because their requests were cancelled. */
  dropped = 0;
  droppedRows = 0;

  constructor(
    private readonly ctx: ActorContext,
    private readonly model: RankCompute,
    private readonly timeline: Timeline,
    private readonly options: ExpertRoleOptions,
    private readonly reply: CombineSink,
  ) {
    const wait = options.convoyWaitMs ?? 0;
    this.convoys = options.continuousBatching && wait > 0 ? new ExpertConvoys(wait) : undefined;
    const kinds = model.config.layerKinds;
    this.lastMoeLayer = kinds.lastIndexOf('moe');
    this.moeLayersLeft = kinds.map((_, l) => kinds.slice(l).filter((k) => k === 'moe').length);
    this.seenAt = new Int32Array(kinds.length);
    this.heldAt = new Int32Array(kinds.length);
    this.convoyAt = new Int32Array(kinds.length);
  }

  get queuedRows(): number {
    return this.waitingRows;
  }

  /** A dispatch arrived (from a peer's channel or this actor's own attention side). */
  accept(from: ActorId, message: ChannelMessage): void {
    const meta = message.meta as DispatchMeta;
    const rows = rowsOf(message, groupRows(meta.groups), this.model.numerics ? this.model.config.hiddenSize : 0);
    const now = this.ctx.now();
    const source = this.convoys ? this.sourceKey(from, meta.batch) : -1;
    const convoy = this.convoys ? this.convoys.arrive(source, now) : -1;
    const waiting: Waiting = {
      from,
      meta,
      groups: meta.groups,
      rows,
      arrivedMs: now,
      layer: meta.layer,
      deadlineMs: meta.deadlineMs ?? Infinity,
      rowCount: rows.rowCount,
      source,
      convoy,
      taken: false,
    };
    if (this.options.continuousBatching) this.waiting.splice(sortedPlace(this.waiting, waiting), 0, waiting);
    else this.waiting.push(waiting);
    this.waitingRows += rows.rowCount;
    this.wake.notify();
  }

  /** Rows of this request that have not been computed yet are dropped. */
  cancel(id: number): void {
    this.cancelled.add(id);
  }

  stop(): void {
    this.stopped = true;
    this.wake.notify();
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      if (this.waiting.length === 0) {
        await (this.options.recordIdle === false ? this.wake.wait() : this.timeline.wait('idle', 'idle', this.wake.wait()));
        continue;
      }
      if (this.options.continuousBatching) {
        // Without a wait configured, no fill call (an async frame per batch): awaiting a settled promise
        // takes the one promise step awaiting fill's would, so the rank's interleaving is unchanged.
        await (this.options.batchWaitMs === 0 ? SETTLED : this.fill());
        // The batch is taken when the device can start it, not before: where attention shares the device,
        // rows that arrive while its ops run join this batch, so batches (and weight reuse) grow with load.
        await this.ctx.device.idle();
      }
      const batch = this.takeBatch();
      if (batch.length > 0) await this.serve(batch);
      else {
        const left = this.convoyWaitLeft();
        await this.timeline.wait('queue-wait', 'convoy', Number.isFinite(left) ? Promise.race([this.wake.wait(), this.ctx.after(left)]) : this.wake.wait());
      }
    }
  }

  /** ms until the first waiting convoy's bound ends (none is ready before then, or an arrival). */
  private convoyWaitLeft(): number {
    const now = this.ctx.now();
    let at = Infinity;
    for (const w of this.waiting) {
      const ready = this.convoys?.readyAt(w.convoy) ?? -Infinity;
      if (ready > now) at = Math.min(at, ready);
    }
    return at - now;
  }

  private moeLayersFrom(layer: number): number {
    return this.moeLayersLeft[layer] ?? 0;
  }

  /** The layer to serve: the earliest deadline's, among layers whose convoys are all back or waited enough. */
  private readyLayer(): number | undefined {
    const order = this.waiting;
    const convoys = this.convoys;
    if (!convoys) return order[0].layer;
    const now = this.ctx.now();
    // The queue is by deadline: a layer's first dispatch in it has the layer's earliest deadline. Marks are
    // stamps per call, in arrays by layer: no Map or Set per batch.
    const stamp = ++this.stamp;
    for (const w of order) {
      const layer = w.layer;
      if (this.seenAt[layer] === stamp) continue;
      this.seenAt[layer] = stamp;
      if (convoys.holding(now, w.deadlineMs, this.moeLayersFrom(layer))) this.heldAt[layer] = stamp;
    }
    for (const w of order) if (this.heldAt[w.layer] === stamp && !convoys.ready(w.convoy, now)) this.convoyAt[w.layer] = stamp;
    for (const w of order) if (this.convoyAt[w.layer] !== stamp) return w.layer;
    return undefined;
  }

  /**
   * Whether the layer served next may wait for other layers' rows in its call: its earliest deadline affords
   * a wait at every MoE layer left, as a held convoy's must (tight deadlines are served alone, first).
   */
  private affordsGroup(layer: number): boolean {
    const first = this.waiting.find((w) => w.layer === layer) as Waiting;
    return this.convoys === undefined || this.convoys.holding(this.ctx.now(), first.deadlineMs, this.moeLayersFrom(layer));
  }

  /** Whether `layer` waits for its convoy, as the last readyLayer call found. */
  private convoyHeld(layer: number): boolean {
    return this.convoys !== undefined && this.convoyAt[layer] === this.stamp;
  }

  /**
   * Waits (bounded) for a small batch to grow: rows from other ranks are likely on their way. With no wait
   * configured the batch is what arrived while the last one computed.
   */
  private async fill(): Promise<void> {
    let oldest = Infinity;
    for (const w of this.waiting) oldest = Math.min(oldest, w.arrivedMs);
    const left = oldest + this.options.batchWaitMs - this.ctx.now();
    if (left > 0 && this.queuedRows < this.options.batchRows) await this.timeline.wait('queue-wait', 'batch-fill', this.ctx.after(left));
  }

  private takeBatch(): Waiting[] {
    if (!this.options.continuousBatching) {
      const next = this.waiting.shift() as Waiting;
      this.waitingRows -= next.rowCount;
      return [next];
    }
    // Earliest deadline first (no deadline: by arrival; the queue is kept in that order); the batch is that
    // layer's rows, in that order.
    const layer = this.readyLayer();
    if (layer === undefined) return [];
    const grouped = this.options.groupLayers === true && this.affordsGroup(layer);
    const batch: Waiting[] = [];
    let rows = 0;
    for (const w of this.waiting) {
      const joins = w.layer === layer || (grouped && !this.convoyHeld(w.layer));
      if (!joins || (batch.length > 0 && rows + w.rowCount > 4 * this.options.batchRows)) continue;
      batch.push(w);
      w.taken = true;
      rows += w.rowCount;
    }
    // Compacted in place, order kept: no new queue per batch.
    const queue = this.waiting;
    let left = 0;
    for (let i = 0; i < queue.length; i++) if (!queue[i].taken) queue[left++] = queue[i];
    queue.length = left;
    this.waitingRows -= rows;
    return batch;
  }

  /** One number per (attention rank, micro-batch); ranks are numbered as they first dispatch here. */
  private sourceKey(from: ActorId, batch: number): number {
    let rank = this.sourceRanks.get(from);
    if (rank === undefined) {
      rank = this.sourceRanks.size;
      if (rank >= MAX_SOURCE_RANKS) throw new Error(`expert rank: dispatches from more than ${MAX_SOURCE_RANKS} attention ranks`);
      this.sourceRanks.set(from, rank);
    }
    return batch * MAX_SOURCE_RANKS + rank;
  }

  private async serve(batch: readonly Waiting[]): Promise<void> {
    // Rows of cancelled requests are not computed: a whole dispatch when all its requests are, else row by
    // row. A dispatch computed whole is its own source; `sourceOf` maps each dispatch to its source in its
    // layer's group (-1: none).
    const groups: LayerGroup[] = [];
    const keptOf: (Int32Array | undefined)[] = [];
    const sourceOf: number[] = [];
    const groupOf: number[] = [];
    const cancelled = this.cancelled;
    let computed = 0;
    for (const w of batch) {
      let g = groups.findIndex((group) => group.layer === w.layer);
      if (g < 0) g = groups.push({ layer: w.layer, members: [], sources: [], sizes: EMPTY_SIZES }) - 1;
      const group = groups[g];
      group.members.push(w);
      groupOf.push(g);
      let rows: IncomingRows | undefined = w;
      let kept: Int32Array | undefined;
      const ids = w.meta.requests;
      if (cancelled.size > 0 && ids?.some((id) => cancelled.has(id))) {
        if (ids.every((id) => cancelled.has(id))) rows = undefined;
        else if (w.meta.runs) {
          ({ rows, kept } = keepRows(w, w.meta.runs, cancelled));
          this.droppedRows += w.rowCount - kept.length;
        }
      }
      keptOf.push(kept);
      if (!rows || rows.rows.rowCount === 0) {
        sourceOf.push(-1);
        continue;
      }
      sourceOf.push(group.sources.length);
      group.sources.push(rows);
      computed++;
    }
    this.dropped += batch.length - computed;
    const now = this.ctx.now();
    for (const g of groups) {
      g.sizes = rowsPerExpert(g.sources);
      this.convoys?.served(g.members.map(sourceOfWaiting), g.layer, g.layer === this.lastMoeLayer, now);
    }
    const outputs = computed > 0 ? await this.compute(groups) : [];
    const queuedRows = this.queuedRows;
    const sent: Promise<void>[] = [];
    for (let b = 0; b < batch.length; b++) {
      const w = batch[b];
      const i = sourceOf[b];
      const kept = keptOf[b];
      const computedRows = i < 0 ? undefined : outputs[groupOf[b]][i];
      const out = computedRows && kept ? restoreRows(computedRows, kept, w.rowCount) : computedRows;
      // No `dropped` key unless dropped: the sim host copies a plain meta directly, but parses the JSON back for one with an undefined key.
      const meta: CombineMeta & { queuedRows: number; dropped?: boolean } =
        i < 0 ? { layer: w.layer, batch: w.meta.batch, rows: 0, queuedRows, dropped: true } : { layer: w.layer, batch: w.meta.batch, rows: out?.rowCount ?? 0, queuedRows };
      sent.push(this.reply(w.from, out ? withRows('combine', meta, out, this.model.config.hiddenSize) : { kind: 'combine', meta }));
    }
    await Promise.all(sent);
  }

  /** Runs every group's experts as one device op; per group, its sources' outputs. */
  private async compute(groups: readonly LayerGroup[]): Promise<Tensor[][]> {
    const config = this.model.config;
    let flops = 0;
    let bytes = 0;
    let total = 0;
    let calls = 0;
    for (const g of groups) {
      const op = expertsOp(config, g.sizes.values(), this.model.weightBytes);
      flops += op.flops ?? 0;
      bytes += op.bytes ?? 0;
      for (const k of g.sizes.values()) total += k;
      calls += g.sizes.size;
    }
    const op = { name: 'experts', flops, bytes };
    const started = this.ctx.now();
    const outputs = await this.timeline.compute(
      op,
      () =>
        groups.map((g, k) => {
          if (g.sources.length === 0) return [];
          const { outputs } = this.model.experts(g.layer, g.sources, g.sizes);
          // A layer's outputs live in the model's output region until its next call: kept past it by a copy.
          return this.model.numerics && k < groups.length - 1 ? outputs.map((t) => t.clone()) : outputs;
        }),
      undefined,
      total,
    );
    this.convoys?.busy(started, this.ctx.now());
    this.calls += calls;
    this.rows += total;
    this.batches++;
    return outputs;
  }
}

/** One layer's dispatches in a batch, and the rows its experts compute. */
interface LayerGroup {
  readonly layer: number;
  readonly members: Waiting[];
  readonly sources: IncomingRows[];
  sizes: ReadonlyMap<number, number>;
}

/** Earliest deadline first (no deadline: by arrival). */
function byDeadline(a: Waiting, b: Waiting): number {
  return a.deadlineMs - b.deadlineMs || a.arrivedMs - b.arrivedMs;
}

/**
 * Where `w` goes in a queue in byDeadline order: after every entry that does not sort after it, the place a
 * stable sort of the queue in arrival order gives it (and a sort per batch used to).
 */
function sortedPlace(queue: readonly Waiting[], w: Waiting): number {
  let lo = 0;
  let hi = queue.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byDeadline(queue[mid], w) > 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function sourceOfWaiting(w: Waiting): number {
  return w.source;
}

/** Attention ranks a source key tells apart (far more than a cluster has). */
const MAX_SOURCE_RANKS = 1 << 16;

const SETTLED = Promise.resolve();
const EMPTY_SIZES: ReadonlyMap<number, number> = new Map();
