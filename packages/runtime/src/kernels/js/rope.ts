import type { Tensor } from '../../tensor/tensor.ts';
import type { RopeOptions } from '../backend.ts';
import { checkRope, outputFor } from '../common/checks.ts';
import type { RopeTables } from '../common/rope-table.ts';

const f = Math.fround;

/**
 * Rotary embedding in Hugging Face's rotate_half layout: per head, the first rotaryDim/2 dims pair with
 * the next rotaryDim/2: x1' = x1·cos − x2·sin, x2' = x2·cos + x1·sin; dims past rotaryDim pass through.
 */
export function rope(x: Tensor, options: RopeOptions, out: Tensor | undefined, tables: RopeTables): Tensor {
  const { rows, rotaryDim, maxPosition } = checkRope(x, options);
  const y = outputFor('rope', x.shape, out);
  const table = tables.table(options, rotaryDim, maxPosition);
  const { half } = table;
  const cos = table.cos.data as Float32Array;
  const sin = table.sin.data as Float32Array;
  const { positions } = options;
  const xs = x.data as Float32Array;
  const ys = y.data as Float32Array;
  const { numHeads, headDim } = options;
  const width = numHeads * headDim;
  for (let r = 0; r < rows; r++) {
    const at = positions[r] * half;
    for (let h = 0; h < numHeads; h++) {
      const base = r * width + h * headDim;
      for (let i = 0; i < half; i++) {
        const x1 = xs[base + i];
        const x2 = xs[base + i + half];
        const c = cos[at + i];
        const s = sin[at + i];
        ys[base + i] = f(f(x1 * c) - f(x2 * s));
        ys[base + i + half] = f(f(x2 * c) + f(x1 * s));
      }
      if (ys !== xs) for (let d = rotaryDim; d < headDim; d++) ys[base + d] = xs[base + d];
    }
  }
  return y;
}
