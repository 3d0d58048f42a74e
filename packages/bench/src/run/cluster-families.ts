// The configuration searches at cluster scale (hundreds of ranks): the knobs production tunes, at sizes
// that matter there, rather than every split a two-core machine can try.
import type { RunSummary } from '../metrics/summary.ts';
import { type EngineFamily, type Knobs, grid } from './engines.ts';

/** An expert rank's bound on waiting for a convoy at cluster scale: several attention ops of a DeepSeek-V3 layer. */
const CONVOY_WAIT_MS = 5;

/**
 * The searches at cluster scale: `sync` over token budgets 256 to 16K with and without two-batch overlap
 * (production's knobs); `asap` colocated, or split with 2/8 to 6/8 of the ranks on attention (in eighths:
 * the best split moves with load — at 16 ranks and 45 Poisson req/s, 6 + 10 beat both 8 + 8 and 4 + 12), with
 * micro-batches of 1K, 2K or 4K tokens two in flight, 1K or 2K three in flight (6 + 10, trace, 37.5 req/s,
 * SLO×5, convoys and the express lane on: 1K × 3 keeps 91.0% within the SLO, 2K × 3 88.3%, 4K × 2 83.5%), or 1K
 * four in flight (384 ranks, 192 + 192, trace, 960 req/s, SLO×10: 99.5% within against 88.7% at 4K × 2 — short
 * requests stop queueing behind 4K micro-batches — though its expert bound, 787 req/s, is below that rate), each
 * with and without expert-side convoys
 * (16 ranks, Poisson 60 req/s, 8 + 8 2K: rows per expert call 60 → 74, ideal bound 54.3 → 59.0 req/s). Every
 * optimization on; the ablation switches them off. `groupLayers` stays off: at 384 ranks it moved 4K × 2 from
 * 88.7% to 84.3% and 1K × 4 from 99.5% to 98.4% within SLO×10 at 960 req/s, and doubling the grid is not worth that.
 */
export function clusterFamily(family: EngineFamily): EngineFamily {
  if (family.name === 'sync') {
    // Default: production-sized chunks.
    return {
      ...family,
      defaults: { ...family.defaults, tokenBudget: 4096 },
      candidates: () => grid({ tokenBudget: [256, 1024, 4096, 16384], twoBatchOverlap: [true, false], loadAwarePlacement: [true] }),
    };
  }
  return {
    ...family,
    // Default: every rank both roles, production-sized micro-batches.
    defaults: { ...family.defaults, placement: 'colocated', microBatchTokens: 4096, convoyWaitMs: CONVOY_WAIT_MS },
    candidates: (ranks) => {
      const on = { loadAwarePlacement: true, microBatchPipelining: true, expertBatching: true, expertLoadBalancing: true };
      const splits = [...new Set([0.25, 0.375, 0.5, 0.625, 0.75].map((share) => Math.min(ranks - 1, Math.max(1, Math.round(ranks * share)))))];
      const layouts: Knobs[] = [
        { placement: 'colocated', attentionRanks: ranks, expertRanks: ranks },
        ...(ranks > 1 ? splits.map((a) => ({ placement: 'disaggregated', attentionRanks: a, expertRanks: ranks - a })) : []),
      ];
      const batching = [
        ...grid({ microBatchTokens: [1024, 2048, 4096], microBatches: [2] }),
        { microBatchTokens: 1024, microBatches: 3 },
        { microBatchTokens: 2048, microBatches: 3 },
        { microBatchTokens: 1024, microBatches: 4 },
      ];
      return layouts.flatMap((layout) => batching.flatMap((b) => [0, CONVOY_WAIT_MS].map((convoyWaitMs) => ({ ...layout, ...b, convoyWaitMs, ...on }))));
    },
    refine: balancedSplits,
  };
}

/**
 * The splits around the one that balances the measured load, at each batching measured (best run first): the
 * best split run at that batching gives its attention and expert kernel time, each summed over its role's
 * ranks (about the same whatever the split), and the ranks are shared out in proportion. The grid's splits
 * are eighths of the ranks apart (48 ranks at 384), and with each role's own bound the busier side sets the
 * pace: 16 ranks, Poisson 60 req/s, 2K × 2, SLO×10 — 6 + 10 and 8 + 8 left a side idle where 7 + 9 balanced
 * them. Every batching, not only the best run's: the sweep of 2026-12-03 balanced 4K × 2 alone (7 + 9 4K × 2)
 * and never ran 7 + 9 2K × 2, which kept 96.1% within SLO×10 at 60 req/s over 2,000 requests.
 */
export function balancedSplits(ranks: number, measured: ReadonlyArray<{ readonly knobs: Knobs; readonly summary: RunSummary }>): Knobs[] {
  const seen = new Set<string>();
  const splits: Knobs[] = [];
  for (const m of measured) {
    if (m.knobs.placement !== 'disaggregated') continue;
    // The grid and its refinements build knobs in one key order, so the split zeroed out names the batching.
    const key = JSON.stringify({ ...m.knobs, attentionRanks: 0, expertRanks: 0 });
    if (seen.has(key)) continue;
    seen.add(key);
    let attention = 0;
    let experts = 0;
    for (const r of m.summary.ranks) {
      if (r.rank.startsWith('attn-')) attention += r.computeMs;
      else if (r.rank.startsWith('expert-')) experts += r.computeMs;
    }
    if (!(attention > 0 && experts > 0)) continue;
    const balanced = (ranks * attention) / (attention + experts);
    for (const a of new Set([Math.floor(balanced), Math.ceil(balanced)])) if (a >= 1 && a <= ranks - 1) splits.push({ ...m.knobs, attentionRanks: a, expertRanks: ranks - a });
  }
  return splits;
}
