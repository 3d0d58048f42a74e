// ASAP's expert rank: rows from every attention rank (a merge of their streams, never a zip), batched per
// layer by deadline, outputs put back to each source.
import { anyRank, defineActor } from '@asap/runtime';
import { defer, from, ignoreElements, merge, tap } from 'rxjs';
import { type AsapRankConfig, heldExperts } from './asap-config.ts';
import { ExpertRole } from './expert-role.ts';
import { loadRankCompute } from './load-rank-compute.ts';
import { type RankStats, rankStats } from './rank-stats.ts';
import { Timeline } from './timeline.ts';

export default defineActor<AsapRankConfig, RankStats>(async (ctx, config) => {
  const me = config.expertRanks.indexOf(ctx.id);
  if (me < 0) throw new Error(`expert rank "${ctx.id}" is not in its expert rank list ${config.expertRanks.join(', ')}`);
  const model = await loadRankCompute(ctx, { modelDir: config.modelDir, backend: config.backend, shapesOnly: config.shapesOnly, attentionSide: false, experts: heldExperts(config.holders, me) });
  const timeline = new Timeline(ctx, config.logSpans, config.fault);
  const role = new ExpertRole(ctx, model, timeline, config.experts, (to, m) => ctx.send(to, m));
  const rows$ = anyRank(
    config.attentionRanks.map((a) =>
      ctx.inboxFrom(a).pipe(
        tap((m) => {
          if (m.kind === 'dispatch') role.accept(a, m);
          else if (m.kind === 'cancel') role.cancel((m.meta as { id: number }).id);
          else throw new Error(`expert rank: unexpected "${m.kind}" from "${a}"`);
        }),
        // Taken: no value goes on through the merges (a subscriber call each per message at hundreds of ranks).
        ignoreElements(),
      ),
    ),
  );
  return {
    run$: merge(rows$, defer(() => from(role.run()))),
    stats: () => ({
      ...rankStats(ctx, timeline, { steps: role.batches, tokens: 0, expertCalls: role.calls, expertRows: role.rows }),
      droppedDispatches: role.dropped,
      droppedRows: role.droppedRows,
    }),
    stop() {
      role.stop();
      model.dispose();
    },
  };
});
