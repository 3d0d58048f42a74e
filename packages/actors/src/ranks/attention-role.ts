// The attention side of ASAP: requests from the gateway are cut into micro-batches; up to `pipelineDepth`
// of them move through the layers at once, each on its own — attention, a one-sided put of its routed rows
// to the expert ranks, then on to combine as soon as those ranks' outputs are back. No barrier: a
// micro-batch waits only for the rows it sent, never for another rank's step.
import type { ActorContext, ActorId, ChannelMessage, Tensor } from '@asap/runtime';
import type { MoeDispatch } from '../model/forward/attention-half.ts';
import { type OutgoingRows, landOutputs, planDispatch, requestRuns, rowsOf, slotBuffers, withRows } from './dispatch-rows.ts';
import type { ExpertHolders } from './expert-placement.ts';
import type { CombineMeta, DispatchMeta } from './messages.ts';
import { attentionOp, combineOp, embedOp, lmHeadOp } from './op-costs.ts';
import { Wakeup } from './pull-queue.ts';
import type { RankCompute, RankKv } from './rank-model.ts';
import { acceptRequest, reportLoad, sendCancelled, sendResult } from './rank-protocol.ts';
import { type Chunk, type HeldRequest, RequestQueue, isLastChunk } from './request-queue.ts';
import { RoutingCounter } from './rank-stats.ts';
import type { Timeline } from './timeline.ts';

export interface AttentionRoleOptions {
  readonly gateway: ActorId;
  /** The expert ranks, in order: `holders` index them. */
  readonly expertRanks: readonly ActorId[];
  readonly holders: ExpertHolders;
  /** Prompt tokens per micro-batch. */
  readonly microBatchTokens: number;
  /** Micro-batches in flight at once (1: no pipelining). */
  readonly pipelineDepth: number;
  /**
   * A request waiting for a slot whose deadline is this many measured micro-batch round trips away opens one
   * micro-batch beyond `pipelineDepth` (0: never). Only requests with deadlines.
   */
  readonly expressRoundTrips?: number;
  /** Send each row to the replica with the least queued rows (false: always the first holder). */
  readonly leastLoadedReplica: boolean;
  readonly kvBudgetBytes: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface ReplyWaiter {
  readonly resolve: (m: ChannelMessage) => void;
  readonly reject: (e: unknown) => void;
}

/** Where dispatched rows go: a channel put, or straight into this actor's own expert side. */
export type DispatchSink = (to: ActorId, message: ChannelMessage) => Promise<void>;

interface Item {
  readonly chunk: Chunk;
  hidden: Tensor;
  moe?: MoeDispatch;
}

export class AttentionRole {
  readonly queue: RequestQueue;
  readonly routing: RoutingCounter;
  private readonly wake = new Wakeup();
  /** Outputs awaited per (batch, layer, expert rank), keyed by `replyKey`: a number, not a string built per message. */
  private readonly awaiting = new Map<number, ReplyWaiter>();
  /** The key `awaitReply` files the next waiter under: one executor for every reply promise, not a closure each. */
  private awaitingKey = 0;
  private readonly awaitReply = (resolve: (m: ChannelMessage) => void, reject: (e: unknown) => void): void => {
    this.awaiting.set(this.awaitingKey, { resolve, reject });
  };
  /** Rows queued at each expert rank: its last report plus what was sent since. */
  private readonly expertLoad: number[];
  /** Each expert rank's index, looked up per reply: a map, not a scan of hundreds of ranks. */
  private readonly expertIndex: ReadonlyMap<ActorId, number>;
  private readonly active = new Set<Promise<void>>();
  private nextBatch = 0;
  /** Exponentially weighted mean of a micro-batch's time through the layers, ms (0: none finished yet). */
  private roundTripMs = 0;
  private stopped = false;
  private failure: { error: unknown } | undefined;
  received = 0;
  tokens = 0;
  batches = 0;
  strayReplies = 0;

  constructor(
    private readonly ctx: ActorContext,
    private readonly model: RankCompute,
    private readonly timeline: Timeline,
    private readonly options: AttentionRoleOptions,
    private readonly dispatch: DispatchSink,
  ) {
    this.queue = new RequestQueue(model.config, model, options.kvBudgetBytes, 'deadline');
    this.routing = new RoutingCounter(model.config);
    this.expertLoad = options.expertRanks.map(() => 0);
    this.expertIndex = new Map(options.expertRanks.map((r, i) => [r, i]));
  }

  async onGateway(message: ChannelMessage): Promise<void> {
    if (message.kind === 'request') {
      this.received++;
      await acceptRequest(this.ctx, this.options.gateway, this.queue, message);
      this.wake.notify();
    } else if (message.kind === 'cancel') {
      const { id } = message.meta as { id: number };
      const request = this.queue.find(id);
      if (!request || request.cancelled) return;
      request.cancelled = true;
      // Expert ranks drop its rows still queued there; a micro-batch in flight finishes without it.
      await Promise.all(this.options.expertRanks.map((x) => this.dispatch(x, { kind: 'cancel', meta: { id } })));
      if (!request.busy) await this.drop(request);
    } else throw new Error(`attention rank: unexpected "${message.kind}" from the gateway`);
  }

  /** A combine reply from an expert rank (any rank, any order: each resolves its own micro-batch's wait). */
  onCombine(from: ActorId, message: ChannelMessage): void {
    const meta = message.meta as CombineMeta & { queuedRows: number };
    const x = this.expertIndex.get(from) ?? -1;
    this.expertLoad[x] = meta.queuedRows;
    const key = this.replyKey(meta.batch, meta.layer, x);
    const waiter = key < 0 ? undefined : this.awaiting.get(key);
    if (!waiter) {
      // A late or duplicated reply: its (batch, layer, rank) was answered already or its batch is gone, and
      // batch ids are never reused, so it cannot land in another request's rows. Dropped and counted.
      this.strayReplies++;
      this.ctx.log('stray-combine', { from, batch: meta.batch, layer: meta.layer });
      return;
    }
    this.awaiting.delete(key);
    waiter.resolve(message);
  }

  /** Ends the run loop; whatever awaits expert outputs rejects with `error`. */
  stop(error: unknown = new Error('the rank stopped')): void {
    this.stopped = true;
    for (const w of this.awaiting.values()) w.reject(error);
    this.awaiting.clear();
    this.wake.notify();
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    this.stop(error);
  }

  /**
   * Keeps up to `pipelineDepth` micro-batches in flight while there is work, and one more while a waiting
   * request would otherwise miss its deadline (the express lane).
   */
  async run(): Promise<void> {
    while (!this.stopped) {
      const expressIn = this.expressLaneIn();
      const room = this.active.size < this.options.pipelineDepth || expressIn <= 0;
      const chunks = room ? this.queue.take(this.options.microBatchTokens) : [];
      if (chunks.length === 0) {
        const woken = this.wake.wait();
        await this.timeline.wait('idle', 'idle', room || !Number.isFinite(expressIn) ? woken : Promise.race([woken, this.ctx.after(expressIn)]));
        continue;
      }
      for (const ch of chunks) ch.request.busy = true;
      const batch = this.nextBatch++;
      const started = this.ctx.now();
      const running: Promise<void> = this.runBatch(batch, chunks).then(() => {
        const took = this.ctx.now() - started;
        this.roundTripMs = this.roundTripMs === 0 ? took : 0.8 * this.roundTripMs + 0.2 * took;
        this.active.delete(running);
        this.wake.notify();
      });
      this.active.add(running);
      // A failing micro-batch fails the rank: run() rethrows it, which crashes the actor.
      running.catch((error: unknown) => this.fail(error));
    }
    if (this.failure) throw this.failure.error;
  }

  /**
   * ms until the most urgent request waiting for a slot is `expressRoundTrips` round trips from its deadline
   * (<= 0: open the express micro-batch now). Infinity while the lane is off or taken, before a round trip was
   * measured, or when no waiting request has a deadline.
   */
  private expressLaneIn(): number {
    const roundTrips = this.options.expressRoundTrips ?? 0;
    if (roundTrips === 0 || this.active.size !== this.options.pipelineDepth || this.roundTripMs === 0) return Infinity;
    return this.queue.earliestWaitingDeadline() - roundTrips * this.roundTripMs - this.ctx.now();
  }

  private async runBatch(batch: number, chunks: readonly Chunk[]): Promise<void> {
    const c = this.model.config;
    const requests = [...new Set(chunks.map((ch) => ch.request.meta.id))];
    const items: Item[] = [];
    for (const chunk of chunks) {
      const ids = chunk.request.tokens.subarray(chunk.start, chunk.start + chunk.length);
      items.push({ chunk, hidden: await this.timeline.compute(embedOp(c, ids.length), () => this.model.embed(ids), requests) });
    }
    const deadlineMs = Math.min(...chunks.map((ch) => ch.request.meta.deadlineMs ?? Infinity));
    for (let layer = 0; layer < c.numLayers; layer++) {
      for (const item of items) {
        const { chunk } = item;
        const half = await this.timeline.compute(
          attentionOp(c, layer, chunk.length, chunk.start, this.model.weightBytes),
          () => this.model.attention(layer, item.hidden, chunk.request.kv as RankKv),
          [chunk.request.meta.id],
        );
        item.hidden = half.hidden;
        item.moe = half.moe;
      }
      if (c.layerKinds[layer] !== 'moe') continue;
      const dispatches = items.map((i) => i.moe as MoeDispatch);
      for (const d of dispatches) this.routing.count(d);
      const plan = planDispatch(dispatches, this.options.holders[layer], this.options.expertRanks.length, (_expert, holders, rows) => this.replica(holders, rows));
      const replies = await this.timeline.wait('queue-wait', 'experts', this.exchange(batch, layer, plan, requests, (chunk) => items[chunk].chunk.request.meta.id, deadlineMs));
      const slots = slotBuffers(dispatches);
      const width = this.model.numerics ? c.hiddenSize : 0;
      let next = 0;
      plan.forEach((sent, x) => {
        if (sent.rows.rowCount === 0) return;
        const reply = replies[next++];
        // An expert rank drops the rows of cancelled requests (the whole dispatch when all of its are).
        if ((reply.meta as { dropped?: boolean }).dropped) return;
        landOutputs(sent, rowsOf(reply, sent.rows.rowCount, width), slots);
      });
      await this.timeline.compute(combineOp(c, items.reduce((n, i) => n + i.chunk.length, 0)), () => {
        items.forEach((item, i) => (item.hidden = this.model.combine(item.hidden, dispatches[i], slots[i])));
      });
    }
    this.batches++;
    for (const item of items) {
      const { chunk } = item;
      const { request } = chunk;
      this.tokens += chunk.length;
      request.busy = false;
      if (request.cancelled) {
        await this.drop(request);
        continue;
      }
      if (!isLastChunk(chunk)) continue;
      const last = item.hidden.row(chunk.length - 1);
      const { firstToken, logits } = await this.timeline.compute(lmHeadOp(c, 1, this.model.weightBytes), () => this.model.finish(last), [request.meta.id]);
      this.queue.release(request);
      await sendResult(this.ctx, this.options.gateway, request, firstToken, logits);
    }
    await reportLoad(this.ctx, this.options.gateway, this.queue, this.received);
  }

  /**
   * Puts each expert rank's rows and resolves with the replies of the ranks that got rows, in rank order
   * (no placeholder for the others: at hundreds of ranks, most get none from one micro-batch's layer).
   */
  private exchange(
    batch: number,
    layer: number,
    plan: readonly OutgoingRows[],
    requests: readonly number[],
    requestOfChunk: (chunk: number) => number,
    deadlineMs: number,
  ): Promise<ChannelMessage[]> {
    if (this.failure) return Promise.reject(this.failure.error);
    const replies: Promise<ChannelMessage>[] = [];
    const sends: Promise<void>[] = [];
    plan.forEach((rows, x) => {
      if (rows.rows.rowCount === 0) return;
      this.awaitingKey = this.replyKey(batch, layer, x);
      replies.push(new Promise<ChannelMessage>(this.awaitReply));
      // Keys only with values: the receiver reads the same meta either way (JSON drops undefined), but the
      // sim host copies plain data directly and parses the JSON back for a meta with an undefined key.
      const meta: Mutable<DispatchMeta> = { layer, batch, groups: rows.groups, requests };
      if (requests.length > 1) meta.runs = requestRuns(rows, requestOfChunk);
      if (Number.isFinite(deadlineMs)) meta.deadlineMs = deadlineMs;
      sends.push(this.dispatch(this.options.expertRanks[x], withRows('dispatch', meta, rows.rows, this.model.config.hiddenSize)));
    });
    return Promise.all(sends).then(() => Promise.all(replies));
  }

  /**
   * One number per (batch, layer, expert rank), or -1 for what no dispatch was sent under (a reply whose
   * header is not a batch, a layer or a rank of ours can match no waiter).
   */
  private replyKey(batch: number, layer: number, x: number): number {
    const layers = this.model.config.numLayers;
    if (!(Number.isSafeInteger(batch) && batch >= 0 && Number.isInteger(layer) && layer >= 0 && layer < layers && x >= 0)) return -1;
    return (batch * layers + layer) * this.options.expertRanks.length + x;
  }

  private replica(holders: readonly number[], rows: number): number {
    if (!this.options.leastLoadedReplica) return holders[0];
    let best = holders[0];
    for (const h of holders) if (this.expertLoad[h] < this.expertLoad[best]) best = h;
    this.expertLoad[best] += rows;
    return best;
  }

  private async drop(request: HeldRequest): Promise<void> {
    this.queue.release(request);
    await sendCancelled(this.ctx, this.options.gateway, request.meta.id);
    await reportLoad(this.ctx, this.options.gateway, this.queue, this.received);
  }
}
