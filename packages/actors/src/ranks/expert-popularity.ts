// Routing without numerics: how many of a chunk's rows each expert gets, drawn from a skewed, seeded
// popularity model — a Zipf law over each layer's experts in an order fixed by the seed (the same on every
// rank), so a few experts are hot, as measured routing is in real MoE serving.
import { SeededRandom } from '@asap/runtime';
import type { ModelConfig } from '../model/config/model-config.ts';

export interface PopularityOptions {
  /** Zipf exponent: 0 is uniform; about 1 makes the hottest expert several times the mean. */
  readonly skew: number;
  /** Fixes which experts are hot in each layer (the same on every rank). */
  readonly seed: number;
}

/** The model's popularity tables: which experts are hot per layer, and each rank's inclusion chance. */
interface PopularityTables {
  /** Per layer: experts hottest first. */
  readonly hottest: readonly Int32Array[];
  /** The chance the r-th hottest expert is among a token's top k (every layer alike). */
  readonly inclusion: Float64Array;
}

/**
 * Tables by what they depend on: every rank of a simulation builds the same ones, and at hundreds of ranks
 * in one thread building them once each was a large part of the start. Read only once built.
 */
const tablesCache = new Map<string, PopularityTables>();

function popularityTables(config: ModelConfig, options: PopularityOptions): PopularityTables {
  const key = `${config.numExperts}:${config.topK}:${config.layerKinds.length}:${options.skew}:${options.seed}`;
  let tables = tablesCache.get(key);
  if (!tables) {
    tables = buildTables(config, options);
    tablesCache.set(key, tables);
  }
  return tables;
}

function buildTables(config: ModelConfig, options: PopularityOptions): PopularityTables {
  const order = new SeededRandom(options.seed);
  const n = config.numExperts;
  // The r-th hottest expert's pick probability, the same in every layer; only which expert is r-th differs.
  const byRank = Float64Array.from({ length: n }, (_, r) => 1 / (r + 1) ** options.skew);
  const total = byRank.reduce((a, b) => a + b, 0);
  byRank.forEach((w, r) => (byRank[r] = w / total));
  const hottest = config.layerKinds.map(() => {
    const rank = Int32Array.from({ length: n }, (_, e) => e);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(order.next() * (i + 1));
      [rank[i], rank[j]] = [rank[j], rank[i]];
    }
    return rank;
  });
  return { hottest, inclusion: inclusionProbabilities(byRank, config.topK) };
}

/** Tokens a history of routing counts covers: enough that the +1 placement adds to every count is noise. */
const HISTORY_TOKENS = 1_000_000;

/**
 * The routing counts a long history under this popularity would hold (each expert's expected picks over
 * HISTORY_TOKENS tokens), per layer, [] for dense layers: what EPLB would place experts by in production.
 */
export function expectedRoutingCounts(config: ModelConfig, options: PopularityOptions): number[][] {
  const { hottest, inclusion } = popularityTables(config, options);
  return config.layerKinds.map((kind, layer) => {
    if (kind !== 'moe') return [];
    const counts = new Array<number>(config.numExperts).fill(0);
    hottest[layer].forEach((expert, r) => (counts[expert] = inclusion[r] * HISTORY_TOKENS));
    return counts;
  });
}

export class ExpertPopularity {
  private readonly hottest: readonly Int32Array[];
  private readonly inclusion: Float64Array;

  constructor(
    private readonly config: ModelConfig,
    options: PopularityOptions,
  ) {
    if (!(options.skew >= 0 && Number.isFinite(options.skew))) throw new RangeError(`expert popularity: skew must be a finite number >= 0, got ${options.skew}`);
    const tables = popularityTables(config, options);
    this.hottest = tables.hottest;
    this.inclusion = tables.inclusion;
  }

  /**
   * Rows per expert for `rows` tokens — what drawing each token's k distinct experts would yield, counted,
   * in O(experts) instead of O(rows × k): each expert gets a binomial share of the rows × k picks by its chance of being among a
   * token's top k, capped at one pick per token, and the picks always total rows × k (as the sim's
   * bookkeeping expects). Numerics off only: no token knows its experts.
   */
  counts(layer: number, rows: number, random: () => number): Int32Array {
    const { topK, numExperts } = this.config;
    const order = this.hottest[layer];
    const pi = this.inclusion;
    const counts = new Int32Array(numExperts);
    let picks = rows * Math.min(topK, numExperts);
    let mass = Math.min(topK, numExperts);
    for (let i = 0; i < order.length && picks > 0; i++) {
      const share = i === order.length - 1 ? 1 : Math.min(1, pi[i] / mass);
      const n = Math.min(rows, binomial(picks, share, random));
      counts[order[i]] = n;
      picks -= n;
      mass -= pi[i];
    }
    // What the caps left over goes, one per token, to the hottest experts with room.
    for (let i = 0; picks > 0 && i < order.length; i++) {
      const room = Math.min(picks, rows - counts[order[i]]);
      counts[order[i]] += room;
      picks -= room;
    }
    return counts;
  }

}

/**
 * The chance each expert is among a token's k distinct picks, for pick probabilities `p` (hottest first):
 * 1 − (1 − p)^m with m set so the chances sum to k — exact at k = 1, close for draws without replacement.
 */
function inclusionProbabilities(p: Float64Array, k: number): Float64Array {
  const target = Math.min(k, p.length);
  const sum = (m: number): number => p.reduce((s, q) => s + 1 - (1 - q) ** m, 0);
  let lo = target;
  let hi = target;
  while (sum(hi) < target - 1e-9 && hi < 1e9) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (sum(mid) < target) lo = mid;
    else hi = mid;
  }
  return p.map((q) => 1 - (1 - q) ** hi);
}

/** A Binomial(n, p) draw: inversion for small means, a rounded normal for large ones (one or two uniforms). */
function binomial(n: number, p: number, random: () => number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const mean = n * p;
  if (mean < 30) {
    // Inversion, walking the probability mass function from 0.
    const q = 1 - p;
    let prob = q ** n;
    let cumulative = prob;
    const u = random();
    let k = 0;
    while (u > cumulative && k < n) {
      prob *= ((n - k) / (k + 1)) * (p / q);
      cumulative += prob;
      k++;
    }
    return k;
  }
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.max(0, Math.min(n, Math.round(mean + z * Math.sqrt(mean * (1 - p)))));
}
