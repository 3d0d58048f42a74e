import { decodeToF32 } from '../../tensor/dtype.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { checkMatmul, outputFor, requireDisjoint } from '../common/checks.ts';

const f = Math.fround;

/**
 * Y = X·Wᵀ (+ bias) with f32 accumulation in the textbook order: each output is
 * ((x0·w0 + x1·w1) + x2·w2) + … over k, every product and sum rounded to f32, then + bias.
 * This order is the contract: the wasm kernel (plain SIMD) reproduces it bit for bit.
 */
export function matmul(x: Tensor, w: Tensor, bias: Tensor | undefined, out: Tensor | undefined): Tensor {
  const { m, k, n } = checkMatmul(x, w, bias);
  requireDisjoint('matmul', out, [['x', x], ['w', w]]);
  const y = outputFor('matmul', [m, n], out);
  const xs = x.data as Float32Array;
  const ys = y.data as Float32Array;
  const b = bias?.toF32();
  const row = new Float32Array(k);
  for (let j = 0; j < n; j++) {
    // One weight row decoded at a time: the whole weight is never expanded.
    decodeToF32(w.dtype, w.data.subarray(j * k, (j + 1) * k), row);
    for (let i = 0; i < m; i++) {
      const base = i * k;
      let acc = 0;
      for (let t = 0; t < k; t++) acc = f(acc + f(xs[base + t] * row[t]));
      if (b) acc = f(acc + b[j]);
      ys[i * n + j] = acc;
    }
  }
  return y;
}
