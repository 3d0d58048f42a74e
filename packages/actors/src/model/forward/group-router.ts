import type { RouterChoice, Tensor } from '@asap/runtime';
import type { GroupRoutingConfig } from '../config/model-config.ts';

const f = Math.fround;

/** Index of the largest value among those `allowed`, the lowest index on ties. */
function best(values: Float32Array, allowed: (i: number) => boolean): number {
  let at = -1;
  for (let i = 0; i < values.length; i++) if (allowed(i) && (at < 0 || values[i] > values[at])) at = i;
  return at;
}

/**
 * DeepSeek-V3 routing of router logits [T, E]: sigmoid scores; the correction bias added for choosing only;
 * the `topkGroups` groups with the largest sum of their two best biased scores kept (experts of the other
 * groups are never chosen, as DeepSeek's own inference code masks them); the top-k biased scores among the
 * kept experts, in slot order (descending, lowest id on ties; the same for groups); weights the chosen
 * unbiased scores, divided by their sum when `normalize`, times `routedScalingFactor` — folded in here so
 * combine stays the same weighted sum for every architecture. Per-row f32 scalar code, batch-invariant.
 */
export function groupLimitedTopK(
  logits: Tensor,
  bias: Float32Array,
  topK: number,
  normalize: boolean,
  routing: GroupRoutingConfig,
): RouterChoice {
  const [rows, experts] = logits.shape;
  const { numGroups, topkGroups, routedScalingFactor } = routing;
  if (bias.length !== experts) throw new RangeError(`group routing: ${bias.length} bias values for ${experts} experts`);
  const size = experts / numGroups;
  const x = logits.toF32();
  const scores = new Float32Array(experts);
  const choice = new Float32Array(experts);
  const groupScores = new Float32Array(numGroups);
  const keptGroup = new Uint8Array(numGroups);
  const taken = new Uint8Array(experts);
  const ids = new Int32Array(rows * topK);
  const weights = new Float32Array(rows * topK);
  for (let r = 0; r < rows; r++) {
    for (let e = 0; e < experts; e++) {
      const v = x[r * experts + e];
      if (Number.isNaN(v)) throw new RangeError(`group routing: logits row ${r}, expert ${e} is NaN`);
      scores[e] = f(1 / f(1 + f(Math.exp(-v))));
      choice[e] = f(scores[e] + bias[e]);
    }
    for (let g = 0; g < numGroups; g++) {
      let first = -Infinity;
      let second = -Infinity;
      for (let e = g * size; e < (g + 1) * size; e++) {
        if (choice[e] > first) [first, second] = [choice[e], first];
        else if (choice[e] > second) second = choice[e];
      }
      groupScores[g] = f(first + second);
    }
    keptGroup.fill(0);
    for (let k = 0; k < topkGroups; k++) keptGroup[best(groupScores, (g) => !keptGroup[g])] = 1;
    taken.fill(0);
    let sum = 0;
    for (let s = 0; s < topK; s++) {
      const e = best(choice, (i) => !taken[i] && keptGroup[Math.floor(i / size)] === 1);
      taken[e] = 1;
      ids[r * topK + s] = e;
      weights[r * topK + s] = scores[e];
      sum = f(sum + scores[e]);
    }
    // transformers adds 1e-20 to the denominator; so do we (it only matters for a sum that underflows).
    const denominator = f(sum + 1e-20);
    for (let s = 0; s < topK; s++) {
      const w = normalize ? f(weights[r * topK + s] / denominator) : weights[r * topK + s];
      weights[r * topK + s] = f(w * routedScalingFactor);
    }
  }
  return { topK, experts: ids, weights };
}
