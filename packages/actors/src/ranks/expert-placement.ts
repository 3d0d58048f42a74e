// Which rank holds which routed experts, per layer, as EPLB does it: redundant copies go one at a time to the
// expert with the most load per copy, then a greedy longest-processing-time packing of the copies' loads.
import type { ModelConfig } from '../model/config/model-config.ts';

/** holders[layer][expert]: indices of the ranks holding that expert, ascending; [] for dense layers. */
export type ExpertHolders = readonly (readonly (readonly number[])[])[];

export interface PlacementOptions {
  /** Routing counts per layer and expert (e.g. `EngineStats.routingCounts` of an earlier run); uniform when absent. */
  readonly counts?: readonly (readonly number[])[];
  /** How many redundant copies each layer has beyond one per expert (default 0); more when ranks outnumber experts. */
  readonly redundant?: number;
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
 * Places every routed expert of every MoE layer on `ranks` ranks: one copy each, plus `redundant` copies
 * (and with more ranks than experts, as many as it takes for every rank to hold one), each going to the
 * expert whose copies carry the most load each; a copy takes an equal share of its expert's load, and no
 * rank holds two copies of one expert.
 */
export function placeExperts(config: ModelConfig, ranks: number, options: PlacementOptions = {}): ExpertHolders {
  const redundant = options.redundant ?? 0;
  const n = config.numExperts;
  if (!Number.isInteger(ranks) || ranks < 1) throw new RangeError(`expert placement: needs at least one expert rank, got ${ranks}`);
  if (!Number.isInteger(redundant) || redundant < 0) {
    throw new RangeError(`expert placement: redundant copies must be an integer >= 0, got ${redundant}`);
  }
  return config.layerKinds.map((kind, layer) => {
    if (kind !== 'moe') return [];
    const loads = layerLoads(config, layer, options.counts);
    const copies = copiesPerExpert(loads, ranks, ranks > 1 ? Math.max(ranks, n + redundant) : n);
    const items = loads.flatMap((load, expert) => Array.from({ length: copies[expert] }, () => ({ load: load / copies[expert], expert })));
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

/**
 * How many copies each expert gets, `total` in all: one each, then one at a time to the expert with the most
 * load per copy (the lower index on a tie), never more copies than ranks.
 */
function copiesPerExpert(loads: readonly number[], ranks: number, total: number): number[] {
  const copies = loads.map(() => 1);
  const slots = Math.min(total, loads.length * ranks);
  for (let placed = loads.length; placed < slots; placed++) {
    let best = -1;
    for (let e = 0; e < loads.length; e++) {
      if (copies[e] >= ranks) continue;
      if (best < 0 || loads[e] * copies[best] > loads[best] * copies[e]) best = e;
    }
    copies[best]++;
  }
  return copies;
}

/** The experts rank `rank` holds, per layer, ascending. */
export function expertsOfRank(holders: ExpertHolders, rank: number): number[][] {
  return holders.map((layer) => layer.flatMap((rs, expert) => (rs.includes(rank) ? [expert] : [])));
}
