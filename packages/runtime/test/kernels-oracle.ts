// Double-precision oracles, deterministic random inputs and comparisons for the kernel tests.
import assert from 'node:assert/strict';
import { Tensor } from '../src/index.ts';

/** A small deterministic generator (mulberry32) so failures reproduce. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A tensor of uniform values in [-range, range). */
export function randomTensor(shape: number[], seed: number, range = 1, dtype: 'f32' | 'bf16' | 'f16' = 'f32'): Tensor {
  const next = random(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = (next() * 2 - 1) * range;
  return Tensor.fromF32(values, shape, dtype);
}

/** Y = X·Wᵀ in double, and Σ|x·w| per output (the scale of the rounding error). */
export function matmulF64(x: Tensor, w: Tensor): { y: Float64Array; magnitude: Float64Array } {
  const [m, k] = x.shape;
  const n = w.shape[0];
  const xs = x.toF32();
  const ws = w.toF32();
  const y = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let a = 0;
      for (let t = 0; t < k; t++) {
        const p = xs[i * k + t] * ws[j * k + t];
        s += p;
        a += Math.abs(p);
      }
      y[i * n + j] = s;
      magnitude[i * n + j] = a;
    }
  }
  return { y, magnitude };
}

/** Causal GQA attention in double, full softmax per row; values (and output) valueDim wide per head. */
export function attentionF64(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  numHeads: number,
  numKvHeads: number,
  headDim: number,
  queryOffset: number,
  valueDim = headDim,
): Float64Array {
  const qs = q.toF32();
  const ks = k.toF32();
  const vs = v.toF32();
  const tq = q.shape[0];
  const out = new Float64Array(tq * numHeads * valueDim);
  const scale = 1 / Math.sqrt(headDim);
  const group = numHeads / numKvHeads;
  for (let i = 0; i < tq; i++) {
    for (let h = 0; h < numHeads; h++) {
      const g = Math.floor(h / group);
      const last = queryOffset + i;
      const scores: number[] = [];
      for (let j = 0; j <= last; j++) {
        let s = 0;
        for (let d = 0; d < headDim; d++) s += qs[(i * numHeads + h) * headDim + d] * ks[(j * numKvHeads + g) * headDim + d];
        scores.push(s * scale);
      }
      const max = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - max));
      const sum = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j <= last; j++) {
        for (let d = 0; d < valueDim; d++) out[(i * numHeads + h) * valueDim + d] += (e[j] / sum) * vs[(j * numKvHeads + g) * valueDim + d];
      }
    }
  }
  return out;
}

/** Largest |a − b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Bitwise equality of two f32 arrays (NaN patterns included), with the first differing index in the message. */
export function sameBits(a: Float32Array, b: Float32Array): string | undefined {
  if (a.length !== b.length) return `lengths differ: ${a.length} vs ${b.length}`;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return `element ${i}: ${a[i]} vs ${b[i]}`;
  return undefined;
}

/** Fails with the first differing element unless the two tensors hold the same f32 bits. */
export function assertBits(actual: Tensor, expected: Tensor, what: string): void {
  const diff = sameBits(actual.toF32(), expected.toF32());
  assert.equal(diff, undefined, `${what}: ${diff}`);
}

/** Fails with the first element where |actual − expected| exceeds bound(i). */
export function assertWithin(actual: Float32Array, expected: Float32Array, bound: (i: number) => number, what: string): void {
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= bound(i))) assert.fail(`${what}: element ${i}: ${actual[i]} vs ${expected[i]} (|Δ| ${d} > ${bound(i)})`);
  }
}
