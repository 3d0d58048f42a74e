// ASAP colocated: one rank runs attention for its own requests and serves expert rows for every rank, with
// no barrier. Rows for its own experts skip the channel; everything else is the disaggregated ranks' code.
import { type ActorId, type ChannelMessage, anyRank, defineActor } from '@asap/runtime';
import { defer, from, merge, mergeMap } from 'rxjs';
import { type AsapRankConfig, heldExperts } from './asap-config.ts';
import { AttentionRole } from './attention-role.ts';
import { ExpertRole } from './expert-role.ts';
import { loadRankCompute } from './load-rank-compute.ts';
import { type RankStats, rankStats } from './rank-stats.ts';
import { Timeline } from './timeline.ts';

export default defineActor<AsapRankConfig, RankStats>(async (ctx, config) => {
  const me = config.expertRanks.indexOf(ctx.id);
  if (me < 0 || config.attentionRanks[me] !== ctx.id) throw new Error(`asap colocated rank "${ctx.id}" must be both attention and expert rank ${me}`);
  const model = await loadRankCompute(ctx, { modelDir: config.modelDir, backend: config.backend, shapesOnly: config.shapesOnly, attentionSide: true, experts: heldExperts(config.holders, me) });
  const timeline = new Timeline(ctx, config.logSpans, config.fault);
  // Each side reaches the other directly for this rank, through a channel for every other rank.
  let attention: AttentionRole | undefined;
  // A send copies a message's rows; the local path copies them too: the model reuses its output rows next batch.
  const experts = new ExpertRole(ctx, model, timeline, { ...config.experts, recordIdle: false }, async (to: ActorId, m: ChannelMessage) =>
    to === ctx.id ? (attention as AttentionRole).onCombine(ctx.id, { ...m, tensors: m.tensors?.map((t) => t.clone()) }) : ctx.send(to, m),
  );
  attention = new AttentionRole(ctx, model, timeline, { ...config.attention, gateway: config.gateway, expertRanks: config.expertRanks, holders: config.holders }, async (to, m) => {
    if (to !== ctx.id) return ctx.send(to, m);
    if (m.kind === 'dispatch') experts.accept(ctx.id, m);
    else if (m.kind === 'cancel') experts.cancel((m.meta as { id: number }).id);
  });
  const role = attention;
  const peers = new Set(config.attentionRanks.filter((r) => r !== ctx.id));
  // Peers' messages are handled in onMessage, as they land: a stream per peer cost every message an
  // operator chain and a promise. Only a peer's end is watched: one that crashes or stops fails this rank
  // (its rows would never come back).
  const peersDown$ = anyRank([...peers].map((p) => ctx.endOf(p)));
  const requests$ = ctx.inboxFrom(config.gateway).pipe(mergeMap((m) => role.onGateway(m), 1));
  return {
    onMessage(from, m) {
      // The gateway's messages are read in order through requests$.
      if (from === config.gateway) return;
      if (!peers.has(from)) throw new Error(`asap colocated rank: unexpected "${m.kind}" from "${from}"`);
      if (m.kind === 'dispatch') experts.accept(from, m);
      else if (m.kind === 'cancel') experts.cancel((m.meta as { id: number }).id);
      else if (m.kind === 'combine') role.onCombine(from, m);
      else throw new Error(`asap colocated rank: unexpected "${m.kind}" from "${from}"`);
    },
    run$: merge(requests$, peersDown$, defer(() => from(role.run())), defer(() => from(experts.run()))),
    stats: () =>
      rankStats(ctx, timeline, { steps: role.batches, tokens: role.tokens, queue: role.queue, expertCalls: experts.calls, expertRows: experts.rows, routing: role.routing }),
    stop() {
      role.stop();
      experts.stop();
      model.dispose();
    },
  };
});
