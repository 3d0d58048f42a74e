// ASAP's attention rank: requests from the gateway, micro-batches pipelined through the layers, routed rows
// put to the expert ranks and their outputs taken as they come back (a merge of the expert ranks' streams).
import { anyRank, defineActor } from '@asap/runtime';
import { defer, from, ignoreElements, merge, mergeMap, tap } from 'rxjs';
import type { AsapRankConfig } from './asap-config.ts';
import { AttentionRole } from './attention-role.ts';
import { loadRankCompute } from './load-rank-compute.ts';
import { type RankStats, rankStats } from './rank-stats.ts';
import { Timeline } from './timeline.ts';

export default defineActor<AsapRankConfig, RankStats>(async (ctx, config) => {
  const model = await loadRankCompute(ctx, { modelDir: config.modelDir, backend: config.backend, shapesOnly: config.shapesOnly, attentionSide: true, experts: config.holders.map(() => []) });
  const timeline = new Timeline(ctx, config.logSpans, config.fault);
  const role = new AttentionRole(ctx, model, timeline, { ...config.attention, gateway: config.gateway, expertRanks: config.expertRanks, holders: config.holders }, (to, m) =>
    ctx.send(to, m),
  );
  // Taken as they land, synchronously: no promise or inner stream per combine (hundreds per micro-batch at
  // scale), and nothing passed on through the merges.
  const outputs$ = anyRank(config.expertRanks.map((x) => ctx.inboxFrom(x).pipe(tap((m) => role.onCombine(x, m)), ignoreElements())));
  const requests$ = ctx.inboxFrom(config.gateway).pipe(mergeMap((m) => role.onGateway(m), 1));
  return {
    // One stream: requests in order, expert outputs as they land, and the micro-batch loop; a throw in any crashes the rank.
    run$: merge(requests$, outputs$, defer(() => from(role.run()))),
    stats: () =>
      rankStats(ctx, timeline, { steps: role.batches, tokens: role.tokens, queue: role.queue, expertCalls: 0, expertRows: 0, routing: role.routing }),
    stop() {
      role.stop();
      model.dispose();
    },
  };
});
