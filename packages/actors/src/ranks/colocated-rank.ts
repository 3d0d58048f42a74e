// The synchronous baseline's rank (DP attention + EP experts on one actor), lock-step as production DP+EP
// runs: every step begins with an all-gather of batch sizes, and every MoE layer meets at the dispatch and
// the combine all-to-all. The all-gather goes through the first rank, the coordinator (3 hops: it calls the
// step, every rank reports what it took, it hands out who takes part), so a step costs O(ranks) messages
// before its layers, not O(ranks²); a production all-gather at hundreds of ranks takes more hops, not fewer.
// A rank with no tokens in the step still serves its experts at every layer, but sends no dispatch and gets
// no combine: nobody waits on a message that would carry nothing (O(active ranks × ranks) per layer).
import { type ActorId, type BackendName, type ChannelMessage, type Tensor, defineActor } from '@asap/runtime';
import { defer, from } from 'rxjs';
import type { MoeDispatch } from '../model/forward/attention-half.ts';
import {
  type IncomingRows,
  type OutgoingRows,
  groupRows,
  landOutputs,
  planDispatch,
  rowsOf,
  rowsPerExpert,
  slotBuffers,
  withRows,
} from './dispatch-rows.ts';
import type { ExpertHolders } from './expert-placement.ts';
import type { CombineMeta, DispatchMeta } from './messages.ts';
import { attentionOp, combineOp, embedOp, expertsOp, lmHeadOp } from './op-costs.ts';
import { PeerInbox } from './peer-inbox.ts';
import { Wakeup } from './pull-queue.ts';
import { type Chunk, type HeldRequest, RequestQueue, isLastChunk, splitMicroBatches } from './request-queue.ts';
import { loadRankCompute } from './load-rank-compute.ts';
import type { PopularityOptions } from './expert-popularity.ts';
import type { RankKv } from './rank-model.ts';
import { type RankStats, rankStats, RoutingCounter } from './rank-stats.ts';
import { acceptRequest, reportLoad, sendCancelled, sendResult } from './rank-protocol.ts';
import { type InjectedFault, Timeline } from './timeline.ts';

export interface ColocatedRankConfig {
  readonly modelDir: string;
  readonly backend: BackendName;
  /** Every colocated rank, in rank order (this one included). */
  readonly ranks: readonly ActorId[];
  readonly gateway: ActorId;
  readonly holders: ExpertHolders;
  /** Most prompt tokens one step takes from this rank's queue. */
  readonly tokenBudget: number;
  /** 1, or 2 for two-batch overlap. */
  readonly microBatches: number;
  /** KV cache bytes this rank may hold. */
  readonly kvBudgetBytes: number;
  readonly logSpans: boolean;
  readonly fault?: InjectedFault;
  /** Numerics off: shapes only, routing from this popularity model. */
  readonly shapesOnly?: PopularityOptions;
}

/** One piece of a micro-batch as it moves through the layers. */
interface Item {
  readonly chunk: Chunk;
  hidden: Tensor;
  moe?: MoeDispatch;
}

/** The step's all-gather, through the coordinator: who took tokens (indices into the rank list). */
interface PlanMeta {
  readonly step: number;
  readonly active: readonly number[];
}

interface BeginMeta {
  readonly step: number;
  readonly tokens: number;
  /** Tokens are left in the rank's queue after this step's take: the coordinator calls another step. */
  readonly more: boolean;
}

function expect(tuple: readonly ChannelMessage[], from: readonly number[], peers: readonly ActorId[], kind: string, check: (meta: never) => boolean): void {
  tuple.forEach((m, i) => {
    if (m.kind !== kind || !check(m.meta as never)) {
      throw new Error(`lock-step broken: expected "${kind}" from "${peers[from[i]]}", got "${m.kind}" ${JSON.stringify(m.meta)}`);
    }
  });
}

export default defineActor<ColocatedRankConfig, RankStats>(async (ctx, config) => {
  const me = config.ranks.indexOf(ctx.id);
  if (me < 0) throw new Error(`colocated rank "${ctx.id}" is not in its rank list ${config.ranks.join(', ')}`);
  const model = await loadRankCompute(ctx, {
    modelDir: config.modelDir,
    backend: config.backend,
    shapesOnly: config.shapesOnly,
    attentionSide: true,
    experts: config.holders.map((layer) => layer.flatMap((rs, e) => (rs.includes(me) ? [e] : []))),
  });
  const c = model.config;
  // Row width on the wire (0 with numerics off).
  const width = model.numerics ? c.hiddenSize : 0;
  const peers = config.ranks.filter((r) => r !== ctx.id);
  const peerIndex = new Map(peers.map((p, i) => [p, i]));
  // Each peer's place in the rank list: looked up once, not per message (hundreds of ranks each step).
  const peerRank = peers.map((p) => config.ranks.indexOf(p));
  const allPeers = peers.map((_, i) => i);
  const coordinator = me === 0;
  /** The coordinator as a peer (every other rank's peer 0). */
  const COORDINATOR_PEER = [0];
  // The coordinator calls a step while it holds tokens or a rank asked for step number <= `wantedStep`; a
  // rank asks ('work') when a request reaches it after its last report.
  let wantedStep = -1;
  let askedForWork = false;
  const queue = new RequestQueue(c, model, config.kvBudgetBytes);
  const timeline = new Timeline(ctx, config.logSpans, config.fault);
  const routing = new RoutingCounter(c);
  const wake = new Wakeup();
  // The barrier: the next message of each peer taking part. Arrivals wake an idle rank: a peer has begun a step.
  const inbox = new PeerInbox(ctx, peers, `${ctx.id} barrier`, (m) => m.kind !== 'work', () => wake.notify());
  const gather = (what: string, from: readonly number[]): Promise<ChannelMessage[]> =>
    from.length === 0 ? Promise.resolve([]) : timeline.wait('barrier-wait', what, inbox.gather(from));
  let steps = 0;
  let tokensDone = 0;
  let received = 0;
  let stopped = false;
  let expertCalls = 0;
  let expertRowsDone = 0;
  /** Requests with a chunk in the running step: a cancel waits for the step to end. */
  const inStep = new Set<HeldRequest>();
  const replicaTurn = new Map<number, number>();
  // Rows of an expert with replicas alternate between its holders, starting at this rank's offset.
  const chooseReplica = (expert: number, holders: readonly number[]): number => {
    const turn = replicaTurn.get(expert) ?? me;
    replicaTurn.set(expert, turn + 1);
    return holders[turn % holders.length];
  };

  /**
   * The step's all-gather, through the coordinator: it calls step number `steps`, this rank takes its chunks and
   * reports them, and every rank learns which ranks took tokens.
   */
  async function beginStep(): Promise<{ chunks: Chunk[]; tokens: number; plan: PlanMeta }> {
    const step = steps;
    if (coordinator) await Promise.all(peers.map((p) => ctx.send(p, { kind: 'step', meta: { step } })));
    else expect(await gather('step', COORDINATOR_PEER), COORDINATOR_PEER, peers, 'step', (m: { step: number }) => m.step === step);
    const chunks = queue.take(config.tokenBudget);
    for (const ch of chunks) inStep.add(ch.request);
    const tokens = chunks.reduce((n, ch) => n + ch.length, 0);
    steps++;
    if (!coordinator) {
      askedForWork = false;
      const begin: BeginMeta = { step, tokens, more: queue.queuedTokens > 0 };
      await ctx.send(peers[0], { kind: 'begin', meta: begin });
      const [reply] = await gather('plan', COORDINATOR_PEER);
      expect([reply], COORDINATOR_PEER, peers, 'plan', (m: PlanMeta) => m.step === step);
      return { chunks, tokens, plan: reply.meta as PlanMeta };
    }
    const begins = await gather('begin', allPeers);
    expect(begins, allPeers, peers, 'begin', (m: BeginMeta) => m.step === step);
    const active = tokens > 0 ? [me] : [];
    begins.forEach((m, i) => {
      const { tokens: taken, more } = m.meta as BeginMeta;
      if (taken > 0) active.push(peerRank[i]);
      if (more) wantedStep = Math.max(wantedStep, steps);
    });
    const plan: PlanMeta = { step, active };
    await Promise.all(peers.map((p) => ctx.send(p, { kind: 'plan', meta: plan })));
    return { chunks, tokens, plan };
  }

  async function step(): Promise<boolean> {
    const { chunks, tokens, plan } = await beginStep();
    // Who takes part in this step's all-to-alls as a source: the ranks with tokens.
    const active = tokens > 0;
    const activePeers = plan.active.filter((r) => r !== me).map((r) => (r < me ? r : r - 1));
    // Where this rank's own rows sit among the sources of an expert batch (rank order): after the active ranks before it.
    const ownSource = plan.active.filter((r) => r < me).length;
    if (plan.active.length === 0) return false;

    const batches: Item[][] = [];
    for (const mb of splitMicroBatches(chunks, config.microBatches)) {
      const items: Item[] = [];
      for (const chunk of mb) {
        const ids = chunk.request.tokens.subarray(chunk.start, chunk.start + chunk.length);
        items.push({ chunk, hidden: await timeline.compute(embedOp(c, ids.length), () => model.embed(ids), [chunk.request.meta.id]) });
      }
      batches.push(items);
    }
    for (let layer = 0; layer < c.numLayers; layer++) {
      const outgoing: OutgoingRows[][] = [];
      for (const [b, items] of batches.entries()) {
        for (const item of items) {
          const { chunk } = item;
          const half = await timeline.compute(
            attentionOp(c, layer, chunk.length, chunk.start, model.weightBytes),
            () => model.attention(layer, item.hidden, chunk.request.kv as RankKv),
            [chunk.request.meta.id],
          );
          item.hidden = half.hidden;
          item.moe = half.moe;
        }
        if (c.layerKinds[layer] !== 'moe' || !active) continue;
        const dispatches = items.map((i) => i.moe as MoeDispatch);
        for (const d of dispatches) routing.count(d);
        const plan = planDispatch(dispatches, config.holders[layer], config.ranks.length, chooseReplica);
        outgoing.push(plan);
        await Promise.all(
          peers.map((p, i) => {
            const rows = plan[peerRank[i]];
            const meta: DispatchMeta = { layer, batch: b, groups: rows.groups };
            return ctx.send(p, withRows('dispatch', meta, rows.rows, c.hiddenSize));
          }),
        );
      }
      if (c.layerKinds[layer] !== 'moe') continue;

      const local: Tensor[] = [];
      for (const b of batches.keys()) {
        const tuple = await gather('dispatch', activePeers);
        expect(tuple, activePeers, peers, 'dispatch', (m: DispatchMeta) => m.layer === layer && m.batch === b);
        // The ranks taking part, in rank order (this one at its place): work per layer grows with them, not with all ranks.
        const sources: IncomingRows[] = tuple.map((m) => {
          const { groups } = m.meta as DispatchMeta;
          return { groups, rows: rowsOf(m, groupRows(groups), width) };
        });
        if (active) sources.splice(ownSource, 0, outgoing[b][me]);
        const sizes = rowsPerExpert(sources);
        const rowsIn = [...sizes.values()].reduce((n, k) => n + k, 0);
        const { outputs } = await timeline.compute(
          expertsOp(c, sizes.values(), model.weightBytes),
          () => model.experts(layer, sources, sizes),
          undefined,
          rowsIn,
        );
        expertCalls += sizes.size;
        expertRowsDone += rowsIn;
        // The model's outputs last until its next batch; this rank's own rows wait for the combine.
        if (active) local.push(outputs[ownSource].clone());
        await Promise.all(
          activePeers.map((peer, i) => {
            const out = outputs[active && i >= ownSource ? i + 1 : i];
            const meta: CombineMeta = { layer, batch: b, rows: out.rowCount };
            return ctx.send(peers[peer], withRows('combine', meta, out, c.hiddenSize));
          }),
        );
      }
      if (!active) continue;
      for (const [b, items] of batches.entries()) {
        const tuple = await gather('combine', allPeers);
        expect(tuple, allPeers, peers, 'combine', (m: CombineMeta) => m.layer === layer && m.batch === b);
        const dispatches = items.map((i) => i.moe as MoeDispatch);
        const slots = slotBuffers(dispatches);
        config.ranks.forEach((r, i) => {
          const sent = outgoing[b][i];
          const out = r === ctx.id ? local[b] : rowsOf(tuple[peerIndex.get(r) as number], sent.rows.rowCount, width);
          landOutputs(sent, out, slots);
        });
        const rows = items.reduce((n, i) => n + i.chunk.length, 0);
        await timeline.compute(combineOp(c, rows), () => {
          items.forEach((item, i) => (item.hidden = model.combine(item.hidden, dispatches[i], slots[i])));
        });
      }
    }
    tokensDone += tokens;
    for (const item of batches.flat()) {
      const { request } = item.chunk;
      if (request.cancelled || !isLastChunk(item.chunk)) continue;
      const last = item.hidden.row(item.chunk.length - 1);
      const { firstToken, logits } = await timeline.compute(lmHeadOp(c, 1, model.weightBytes), () => model.finish(last), [request.meta.id]);
      queue.release(request);
      await sendResult(ctx, config.gateway, request, firstToken, logits);
    }
    for (const request of inStep) {
      if (!request.cancelled) continue;
      queue.release(request);
      await sendCancelled(ctx, config.gateway, request.meta.id);
    }
    inStep.clear();
    await reportLoad(ctx, config.gateway, queue, received);
    return true;
  }

  async function loop(): Promise<void> {
    while (!stopped) {
      // The coordinator calls steps; every other rank steps when called (a call is all it can have unread here).
      const called = coordinator ? queue.queuedTokens > 0 || wantedStep >= steps : inbox.arrived > inbox.taken;
      if (!called) {
        await timeline.wait('idle', 'idle', wake.wait());
        continue;
      }
      await step();
    }
  }

  async function fromGateway(message: ChannelMessage): Promise<void> {
    if (message.kind === 'request') {
      received++;
      await acceptRequest(ctx, config.gateway, queue, message);
      wake.notify();
      if (!coordinator && !askedForWork && queue.queuedTokens > 0) {
        askedForWork = true;
        await ctx.send(peers[0], { kind: 'work', meta: { step: steps } });
      }
    } else if (message.kind === 'cancel') {
      const { id } = message.meta as { id: number };
      const request = queue.find(id);
      if (!request || request.cancelled) return;
      request.cancelled = true;
      // A request with a chunk in the running step finishes that step (its peers expect its rows), then is dropped.
      if (!inStep.has(request)) {
        queue.release(request);
        await sendCancelled(ctx, config.gateway, id);
        await reportLoad(ctx, config.gateway, queue, received);
      }
    } else throw new Error(`colocated rank: unexpected "${message.kind}" from the gateway`);
  }

  return {
    // Synchronous for peers' messages (a promise per dispatch row message would be most of their cost at scale).
    onMessage(from, message) {
      // Peers' messages are read through the barrier, except a request for a step, which only the coordinator gets.
      if (peerIndex.has(from)) {
        if (message.kind !== 'work') return;
        if (!coordinator) throw new Error(`colocated rank "${ctx.id}": "work" from "${from}", but it is not the coordinator`);
        wantedStep = Math.max(wantedStep, (message.meta as { step: number }).step);
        wake.notify();
        return;
      }
      if (from !== config.gateway) throw new Error(`colocated rank: unexpected "${message.kind}" from "${from}"`);
      return fromGateway(message);
    },
    // The step loop is the actor's stream: a throw anywhere in it crashes the rank.
    run$: defer(() => from(loop())),
    stats: () => rankStats(ctx, timeline, { steps, tokens: tokensDone, queue, expertCalls, expertRows: expertRowsDone, routing }),
    stop() {
      stopped = true;
      inbox.close();
      wake.notify();
      model.dispose();
    },
  };
});
