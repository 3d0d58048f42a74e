// Routing without numerics: each token's top-k experts drawn from a skewed, seeded popularity model — a
// Zipf law over each layer's experts in an order fixed by the seed (the same on every rank), so a few
// experts are hot, as measured routing is in real MoE serving.
import { type RouterChoice, SeededRandom } from '@asap/runtime';
import type { ModelConfig } from '../model/config/model-config.ts';

export interface PopularityOptions {
  /** Zipf exponent: 0 is uniform; about 1 makes the hottest expert several times the mean. */
  readonly skew: number;
  /** Fixes which experts are hot in each layer (the same on every rank). */
  readonly seed: number;
}

/** Whether `expert` is among the `count` experts already chosen from `start` (no view per draw: a hot loop). */
function chosenBefore(experts: Int32Array, start: number, count: number, expert: number): boolean {
  for (let i = start; i < start + count; i++) if (experts[i] === expert) return true;
  return false;
}

export class ExpertPopularity {
  /** cumulative[layer]: cumulative probability over experts (in expert id order). */
  private readonly cumulative: Float64Array[];

  constructor(
    private readonly config: ModelConfig,
    options: PopularityOptions,
  ) {
    if (!(options.skew >= 0 && Number.isFinite(options.skew))) throw new RangeError(`expert popularity: skew must be a finite number >= 0, got ${options.skew}`);
    const order = new SeededRandom(options.seed);
    this.cumulative = config.layerKinds.map(() => {
      const n = config.numExperts;
      const rank = Array.from({ length: n }, (_, e) => e);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(order.next() * (i + 1));
        [rank[i], rank[j]] = [rank[j], rank[i]];
      }
      const weight = new Float64Array(n);
      rank.forEach((expert, r) => (weight[expert] = 1 / (r + 1) ** options.skew));
      const total = weight.reduce((a, b) => a + b, 0);
      let sum = 0;
      return weight.map((w) => (sum += w / total));
    });
  }

  /** Top-k distinct experts for each of `rows` tokens, equal weights, drawn with `random`. */
  route(layer: number, rows: number, random: () => number): RouterChoice {
    const { topK } = this.config;
    const cdf = this.cumulative[layer];
    const experts = new Int32Array(rows * topK);
    const weights = new Float32Array(rows * topK).fill(1 / topK);
    for (let t = 0; t < rows; t++) {
      for (let s = 0; s < topK; s++) {
        let e: number;
        do {
          const u = random();
          let lo = 0;
          let hi = cdf.length - 1;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (cdf[mid] < u) lo = mid + 1;
            else hi = mid;
          }
          e = lo;
        } while (chosenBefore(experts, t * topK, s, e));
        experts[t * topK + s] = e;
      }
    }
    return { topK, experts, weights };
  }
}
