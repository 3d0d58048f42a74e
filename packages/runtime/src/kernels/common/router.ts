import type { Tensor } from '../../tensor/tensor.ts';
import type { RouterChoice, RouterOptions } from '../backend.ts';
import { fail, requireF32, requireRank2 } from './checks.ts';

const f = Math.fround;

/** The checks of routerTopK (every backend's): 2-D f32 logits [rows, experts], topK in 1..experts. */
export function checkRouter(logits: Tensor, options: RouterOptions): { rows: number; experts: number } {
  requireRank2('routerTopK', 'logits', logits);
  requireF32('routerTopK', 'logits', logits);
  const [rows, experts] = logits.shape;
  const { topK } = options;
  if (!Number.isInteger(topK) || topK < 1 || topK > experts) fail('routerTopK', `topK ${topK} must be in 1..${experts} (experts)`);
  return { rows, experts };
}

/**
 * Softmax over each row of expert logits (f32, as Hugging Face computes it), then the top-k experts in
 * slot order: descending probability, the lower expert id first on ties; optionally renormalised to sum
 * to 1. Shared by every backend: routing is per-row scalar work on a few hundred values, and identical
 * code keeps expert choices identical whatever backend computed the logits.
 */
export function routerTopK(logits: Tensor, options: RouterOptions): RouterChoice {
  const { rows, experts } = checkRouter(logits, options);
  const { topK, renormalize } = options;
  const x = logits.data as Float32Array;
  const ids = new Int32Array(rows * topK);
  const weights = new Float32Array(rows * topK);
  const probs = new Float32Array(experts);
  const taken = new Uint8Array(experts);
  for (let r = 0; r < rows; r++) {
    const base = r * experts;
    let max = -Infinity;
    for (let e = 0; e < experts; e++) {
      const v = x[base + e];
      if (Number.isNaN(v)) fail('routerTopK', `logits row ${r}, expert ${e} is NaN`);
      if (v > max) max = v;
    }
    let sum = 0;
    for (let e = 0; e < experts; e++) {
      probs[e] = f(Math.exp(f(x[base + e] - max)));
      sum = f(sum + probs[e]);
    }
    for (let e = 0; e < experts; e++) probs[e] = f(probs[e] / sum);
    taken.fill(0);
    let chosenSum = 0;
    for (let s = 0; s < topK; s++) {
      let best = -1;
      for (let e = 0; e < experts; e++) {
        if (!taken[e] && (best < 0 || probs[e] > probs[best])) best = e; // strict >: lower id wins ties
      }
      taken[best] = 1;
      ids[r * topK + s] = best;
      weights[r * topK + s] = probs[best];
      chosenSum = f(chosenSum + probs[best]);
    }
    if (renormalize) for (let s = 0; s < topK; s++) weights[r * topK + s] = f(weights[r * topK + s] / chosenSum);
  }
  return { topK, experts: ids, weights };
}
