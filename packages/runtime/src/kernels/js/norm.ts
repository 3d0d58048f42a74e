import type { Tensor } from '../../tensor/tensor.ts';
import { checkRmsNorm, outputFor } from '../common/checks.ts';

const f = Math.fround;

/**
 * Hugging Face RMSNorm in f32: y = weight * (x * rsqrt(mean(x²) + eps)), per weight-length slice of each
 * row (one slice per row, or one per head for q/k norm). The sum of squares runs in index order.
 */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number, out: Tensor | undefined): Tensor {
  const { rows, width, slices } = checkRmsNorm(x, weight, eps);
  const y = outputFor('rmsNorm', x.shape, out);
  const xs = x.data as Float32Array;
  const ys = y.data as Float32Array;
  const ws = weight.toF32();
  const epsF = f(eps);
  for (let s = 0; s < rows * slices; s++) {
    const base = s * width;
    let sum = 0;
    for (let j = 0; j < width; j++) sum = f(sum + f(xs[base + j] * xs[base + j]));
    const r = f(1 / f(Math.sqrt(f(f(sum / width) + epsF))));
    for (let j = 0; j < width; j++) ys[base + j] = f(ws[j] * f(xs[base + j] * r));
  }
  return y;
}
