import type { Tensor } from '../../tensor/tensor.ts';
import type { AttentionOptions } from '../backend.ts';
import { checkAttention, outputFor, requireDisjoint } from '../common/checks.ts';

const f = Math.fround;

/**
 * Causal GQA attention, the textbook way, one query row at a time: scores s_j = (q·k_j)·scale for the keys
 * up to the row's position, softmax in f32 (max-subtracted), then Σ p_j·v_j in key order. Memory: one
 * score row (linear in the prompt). Query head h reads kv head ⌊h / (numHeads/numKvHeads)⌋ (HF repeat_kv).
 * Values (and the output) may be narrower or wider per head than queries and keys (valueHeadDim).
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions, out: Tensor | undefined): Tensor {
  const { queries, keys, numHeads, numKvHeads, headDim, valueHeadDim, scale, queryOffset } = checkAttention(q, k, v, options);
  requireDisjoint('attention', out, [['q', q], ['k', k], ['v', v]]);
  const y = outputFor('attention', [queries, numHeads * valueHeadDim], out);
  const qs = q.data as Float32Array;
  const ks = k.data as Float32Array;
  const vs = v.data as Float32Array;
  const ys = y.data as Float32Array;
  const scaleF = f(scale);
  const group = numHeads / numKvHeads;
  const qWidth = numHeads * headDim;
  const kvWidth = numKvHeads * headDim;
  const vWidth = numKvHeads * valueHeadDim;
  const outWidth = numHeads * valueHeadDim;
  const scores = new Float32Array(keys);
  const acc = new Float32Array(valueHeadDim);
  for (let i = 0; i < queries; i++) {
    const last = queryOffset + i;
    for (let h = 0; h < numHeads; h++) {
      const qBase = i * qWidth + h * headDim;
      const g = Math.floor(h / group);
      const kvOff = g * headDim;
      let max = -Infinity;
      for (let j = 0; j <= last; j++) {
        const kBase = j * kvWidth + kvOff;
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot = f(dot + f(qs[qBase + d] * ks[kBase + d]));
        const s = f(dot * scaleF);
        scores[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j <= last; j++) {
        scores[j] = f(Math.exp(f(scores[j] - max)));
        sum = f(sum + scores[j]);
      }
      acc.fill(0);
      for (let j = 0; j <= last; j++) {
        const p = f(scores[j] / sum);
        const vBase = j * vWidth + g * valueHeadDim;
        for (let d = 0; d < valueHeadDim; d++) acc[d] = f(acc[d] + f(p * vs[vBase + d]));
      }
      ys.set(acc, i * outWidth + h * valueHeadDim);
    }
  }
  return y;
}
