// Row gather and scatter-add: data movement with at most one multiply-add per element, so every backend
// runs this code directly on the tensors' memory (a wasm backend's memory is a SharedArrayBuffer too).
import { decodeToF32 } from '../../tensor/dtype.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { checkRowIndex, fail, outputFor, requireF32, requireRank2 } from './checks.ts';

const f = Math.fround;

/** The checks of gatherRows (every backend's): x is 2-D, every index names a row of it; the output tensor. */
export function checkGatherRows(x: Tensor, index: Int32Array, out: Tensor | undefined): Tensor {
  requireRank2('gatherRows', 'x', x);
  checkRowIndex('gatherRows', index, x.shape[0], `x [${x.shape.join(', ')}]`);
  return outputFor('gatherRows', [index.length, x.shape[1]], out);
}

/** The checks of scatterAddRows (every backend's): f32 rows of one width, one index (and scale) per src row. */
export function checkScatterAddRows(dst: Tensor, src: Tensor, index: Int32Array, scale: Float32Array | undefined): void {
  requireRank2('scatterAddRows', 'dst', dst);
  requireRank2('scatterAddRows', 'src', src);
  requireF32('scatterAddRows', 'dst', dst);
  requireF32('scatterAddRows', 'src', src);
  const [rows, cols] = dst.shape;
  if (src.shape[1] !== cols) fail('scatterAddRows', `src [${src.shape.join(', ')}] and dst [${dst.shape.join(', ')}] differ in row width`);
  if (index.length !== src.shape[0]) fail('scatterAddRows', `${index.length} indices for ${src.shape[0]} rows of src`);
  if (scale && scale.length !== index.length) fail('scatterAddRows', `${scale.length} scales for ${index.length} rows of src`);
  checkRowIndex('scatterAddRows', index, rows, `dst [${dst.shape.join(', ')}]`);
}

/** out[i] = x[index[i]], decoded to f32 (exact for bf16/f16). */
export function gatherRows(x: Tensor, index: Int32Array, out?: Tensor): Tensor {
  const y = checkGatherRows(x, index, out);
  const cols = x.shape[1];
  const dst = y.data as Float32Array;
  for (let i = 0; i < index.length; i++) {
    decodeToF32(x.dtype, x.data.subarray(index[i] * cols, (index[i] + 1) * cols), dst.subarray(i * cols, (i + 1) * cols));
  }
  return y;
}

/** dst[index[i]] += scale[i] * src[i] (f32, each product and sum rounded), applied in i order. */
export function scatterAddRows(dst: Tensor, src: Tensor, index: Int32Array, scale?: Float32Array): Tensor {
  checkScatterAddRows(dst, src, index, scale);
  const cols = dst.shape[1];
  const d = dst.data as Float32Array;
  const s = src.data as Float32Array;
  for (let i = 0; i < index.length; i++) {
    const to = index[i] * cols;
    const from = i * cols;
    if (scale) {
      const k = scale[i];
      for (let c = 0; c < cols; c++) d[to + c] = f(d[to + c] + f(k * s[from + c]));
    } else {
      for (let c = 0; c < cols; c++) d[to + c] = f(d[to + c] + s[from + c]);
    }
  }
  return dst;
}
