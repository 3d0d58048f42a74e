// Which rank holds which routed experts, per layer: a greedy longest-processing-time packing of the
// experts' measured load (routing counts), with the hottest experts replicated on a second rank.
import type { ModelConfig } from '../model/config/model-config.ts';

/** holders[layer][expert]: indices of the ranks holding that expert, ascending; [] for dense layers. */
export type ExpertHolders = readonly (readonly (readonly number[])[])[];

export interface PlacementOptions {
  /** Routing counts per layer and expert (e.g. `EngineStats.routingCounts` of an earlier run); uniform when absent. */
  readonly counts?: readonly (readonly number[])[];
  /** How many of each layer's hottest experts get a second copy on another rank (default 0). */
  readonly replicas?: number;
}

function layerLoads(config: ModelConfig, layer: number, counts: PlacementOptions['counts']): number[] {
  const measured = counts?.[layer];
  if (!measured || measured.length === 0) return Array.from({ length: config.numExperts }, () => 1);
  if (measured.length !== config.numExperts || measured.some((n) => !(Number.isFinite(n) && n >= 0))) {
    throw new RangeError(`expert placement: counts[${layer}] must hold ${config.numExperts} finite counts >= 0`);
  }
  // +1 keeps never-routed experts from all landing on one rank.
  return measured.map((n) => n + 1);
}

/**
 * Places every routed expert of every MoE layer on `ranks` ranks. The hottest `replicas` experts get a
 * second copy; with more ranks than experts, the hottest get extra copies until every rank holds one (as
 * redundant experts do in production EP), each copy taking an equal share of its expert's load.
 */
export function placeExperts(config: ModelConfig, ranks: number, options: PlacementOptions = {}): ExpertHolders {
  const replicas = options.replicas ?? 0;
  const n = config.numExperts;
  if (!Number.isInteger(ranks) || ranks < 1) throw new RangeError(`expert placement: needs at least one expert rank, got ${ranks}`);
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > n) {
    throw new RangeError(`expert placement: replicas must be an integer in 0..${n}, got ${replicas}`);
  }
  return config.layerKinds.map((kind, layer) => {
    if (kind !== 'moe') return [];
    const loads = layerLoads(config, layer, options.counts);
    const order = loads.map((load, expert) => ({ load, expert })).sort((a, b) => b.load - a.load || a.expert - b.expert);
    // Copies per expert (hottest first): one each, a second for the `replicas` hottest, then round after
    // round of one more for the hottest until there is a copy for every rank; never two on one rank.
    const copies = new Array<number>(n).fill(1);
    if (ranks > 1) for (let i = 0; i < replicas; i++) copies[i]++;
    for (let total = n + (ranks > 1 ? replicas : 0), i = 0; total < ranks; total++, i = (i + 1) % n) copies[i]++;
    const items = order.flatMap(({ load, expert }, i) => Array.from({ length: Math.min(copies[i], ranks) }, () => ({ load: load / Math.min(copies[i], ranks), expert })));
    items.sort((a, b) => b.load - a.load || a.expert - b.expert);
    const rankLoad = new Array<number>(ranks).fill(0);
    const held: number[][] = Array.from({ length: n }, () => []);
    for (const { load, expert } of items) {
      let best = -1;
      for (let r = 0; r < ranks; r++) {
        if (held[expert].includes(r)) continue;
        if (best < 0 || rankLoad[r] < rankLoad[best]) best = r;
      }
      rankLoad[best] += load;
      held[expert].push(best);
    }
    return held.map((rs) => rs.sort((a, b) => a - b));
  });
}

/** The experts rank `rank` holds, per layer, ascending. */
export function expertsOfRank(holders: ExpertHolders, rank: number): number[][] {
  return holders.map((layer) => layer.flatMap((rs, expert) => (rs.includes(rank) ? [expert] : [])));
}
