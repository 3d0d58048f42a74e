// The js backend (the oracle for every other backend) against double-precision math and known values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BackendName, KernelUnsupportedError, Tensor, createBackend } from '../src/index.ts';
import { attentionF64, matmulF64, maxAbsDiff, randomTensor } from './kernels-oracle.ts';

const U = 2 ** -24; // f32 unit roundoff

test('js matmul is within the f32 summation bound of exact math, f32 and bf16 weights, with bias', async () => {
  const js = await createBackend('js');
  const x = randomTensor([5, 37], 1);
  for (const dtype of ['f32', 'bf16', 'f16'] as const) {
    const w = randomTensor([11, 37], 2, 1, dtype);
    const bias = randomTensor([11], 3);
    const y = js.matmul(x, w, bias).toF32();
    const { y: exact, magnitude } = matmulF64(x, w);
    const b = bias.toF32();
    for (let i = 0; i < y.length; i++) {
      // Sequential f32 summation of k products: |error| ≤ (k+1)·u·Σ|x·w| (+ the bias rounding).
      const bound = 38 * U * magnitude[i] + 2 * U * (Math.abs(exact[i]) + Math.abs(b[i % 11]));
      assert.ok(Math.abs(y[i] - (exact[i] + b[i % 11])) <= bound, `${dtype} element ${i}`);
    }
  }
});

test('js rmsNorm: whole rows and per-head slices match the formula', async () => {
  const js = await createBackend('js');
  const x = randomTensor([3, 12], 4, 3);
  const weight = randomTensor([4], 5);
  const y = js.rmsNorm(x, weight, 1e-6).toF32();
  const xs = x.toF32();
  const ws = weight.toF32();
  for (let s = 0; s < 9; s++) {
    let ss = 0;
    for (let j = 0; j < 4; j++) ss += xs[s * 4 + j] ** 2;
    const r = 1 / Math.sqrt(ss / 4 + 1e-6);
    for (let j = 0; j < 4; j++) assert.ok(Math.abs(y[s * 4 + j] - xs[s * 4 + j] * r * ws[j]) < 1e-5);
  }
  assert.throws(() => js.rmsNorm(x, randomTensor([5], 6), 1e-6), /rmsNorm: weight length 5 does not divide the row length 12/);
});

test('js rope rotates each pair by position·inv_freq and keeps the norm', async () => {
  const js = await createBackend('js');
  const x = randomTensor([3, 16], 7); // 2 heads of 8
  const positions = new Int32Array([0, 5, 1000]);
  const y = js.rope(x, { numHeads: 2, headDim: 8, theta: 10000, positions }).toF32();
  const xs = x.toF32();
  for (let r = 0; r < 3; r++) {
    for (let h = 0; h < 2; h++) {
      for (let i = 0; i < 4; i++) {
        const a = positions[r] / 10000 ** ((2 * i) / 8);
        const b = r * 16 + h * 8;
        const x1 = xs[b + i];
        const x2 = xs[b + i + 4];
        assert.ok(Math.abs(y[b + i] - (x1 * Math.cos(a) - x2 * Math.sin(a))) < 1e-4);
        assert.ok(Math.abs(y[b + i + 4] - (x2 * Math.cos(a) + x1 * Math.sin(a))) < 1e-4);
      }
    }
  }
  // Position 0 is the identity; in place is allowed.
  const first = x.rows(0, 1).clone();
  js.rope(first, { numHeads: 2, headDim: 8, theta: 10000, positions: new Int32Array([0]) }, first);
  assert.deepEqual(first.toF32(), x.rows(0, 1).toF32());
});

test('js attention matches a double-precision softmax, GQA and query offsets', async () => {
  const js = await createBackend('js');
  const q = randomTensor([7, 4 * 6], 8);
  const k = randomTensor([10, 2 * 6], 9);
  const v = randomTensor([10, 2 * 6], 10);
  const y = js.attention(q, k, v, { numHeads: 4, numKvHeads: 2, headDim: 6 }).toF32();
  assert.ok(maxAbsDiff(y, attentionF64(q, k, v, 4, 2, 6, 3)) < 1e-5);
  const chunk = js.attention(q.rows(0, 2), k, v, { numHeads: 4, numKvHeads: 2, headDim: 6, queryOffset: 1 }).toF32();
  assert.ok(maxAbsDiff(chunk, attentionF64(q.rows(0, 2), k, v, 4, 2, 6, 1)) < 1e-5);
  assert.throws(() => js.attention(q, k.rows(0, 5), v.rows(0, 5), { numHeads: 4, numKvHeads: 2, headDim: 6 }), /attention: queries at positions/);
});

test('js rope with given inverse frequencies and attention scaling (YaRN) rotates by them and scales cos and sin', async () => {
  const js = await createBackend('js');
  const x = randomTensor([2, 12], 30); // 2 heads of 6, 4 rotary dims
  const positions = new Int32Array([3, 70]);
  const inverseFrequencies = Float32Array.from([0.5, 0.001]);
  const m = 1.25;
  const y = js.rope(x, { numHeads: 2, headDim: 6, rotaryDim: 4, theta: 10000, positions, inverseFrequencies, attentionScaling: m }).toF32();
  const xs = x.toF32();
  for (let r = 0; r < 2; r++) {
    for (let h = 0; h < 2; h++) {
      const b = r * 12 + h * 6;
      for (let i = 0; i < 2; i++) {
        const a = positions[r] * inverseFrequencies[i];
        const [x1, x2] = [xs[b + i], xs[b + i + 2]];
        assert.ok(Math.abs(y[b + i] - m * (x1 * Math.cos(a) - x2 * Math.sin(a))) < 1e-5);
        assert.ok(Math.abs(y[b + i + 2] - m * (x2 * Math.cos(a) + x1 * Math.sin(a))) < 1e-5);
      }
      for (const d of [4, 5]) assert.equal(y[b + d], xs[b + d], 'dims past rotaryDim pass through unscaled');
    }
  }
  assert.throws(
    () => js.rope(x, { numHeads: 2, headDim: 6, rotaryDim: 4, theta: 1, positions, inverseFrequencies: new Float32Array(3) }),
    /rope: 3 inverse frequencies for rotaryDim 4 \(needs 2\)/,
  );
});

test('js attention with values narrower or wider than queries and keys (valueHeadDim)', async () => {
  const js = await createBackend('js');
  for (const valueDim of [3, 10]) {
    const q = randomTensor([5, 4 * 6], 31);
    const k = randomTensor([8, 2 * 6], 32);
    const v = randomTensor([8, 2 * valueDim], 33);
    const options = { numHeads: 4, numKvHeads: 2, headDim: 6, valueHeadDim: valueDim };
    const y = js.attention(q, k, v, options);
    assert.deepEqual(y.shape, [5, 4 * valueDim]);
    assert.ok(maxAbsDiff(y.toF32(), attentionF64(q, k, v, 4, 2, 6, 3, valueDim)) < 1e-5, `valueHeadDim ${valueDim}`);
  }
  const q = randomTensor([2, 6], 34);
  assert.throws(
    () => js.attention(q, randomTensor([2, 6], 35), randomTensor([2, 6], 36), { numHeads: 1, numKvHeads: 1, headDim: 6, valueHeadDim: 4 }),
    /attention: v \[2, 6\] rows must be numKvHeads\*valueHeadDim = 4 wide/,
  );
});

test('js routerTopK: softmax, slot order by weight, lower id wins ties, renormalisation', async () => {
  const js = await createBackend('js');
  const logits = Tensor.fromF32([1, 3, 3, 0, 2, /* row 2 */ 0, 0, 0, 0, 0], [2, 5]);
  const plain = js.routerTopK(logits, { topK: 3, renormalize: false });
  assert.deepEqual([...plain.experts], [1, 2, 4, 0, 1, 2]);
  const z = Math.exp(1) + 2 * Math.exp(3) + 1 + Math.exp(2);
  assert.ok(Math.abs(plain.weights[0] - Math.exp(3) / z) < 1e-7);
  assert.ok(Math.abs(plain.weights[2] - Math.exp(2) / z) < 1e-7);
  const norm = js.routerTopK(logits, { topK: 3, renormalize: true });
  assert.ok(Math.abs(norm.weights[0] + norm.weights[1] + norm.weights[2] - 1) < 1e-6);
  assert.ok(Math.abs(norm.weights[3] - 1 / 3) < 1e-7);
  assert.throws(() => js.routerTopK(logits, { topK: 6, renormalize: false }), /routerTopK: topK 6 must be in 1..5/);
});

test('js siluMul, add, scale, gatherRows (bf16), scatterAddRows in index order', async () => {
  const js = await createBackend('js');
  const g = Tensor.fromF32([-2, 0, 1.5], [1, 3]);
  const u = Tensor.fromF32([3, 4, -1], [1, 3]);
  const s = js.siluMul(g, u).toF32();
  [-2, 0, 1.5].forEach((v, i) => assert.ok(Math.abs(s[i] - (v / (1 + Math.exp(-v))) * [3, 4, -1][i]) < 1e-6));
  assert.deepEqual([...js.add(g, u).toF32()], [1, 4, 0.5]);
  assert.deepEqual([...js.scale(g, 2).toF32()], [-4, 0, 3]);
  const table = Tensor.fromF32([1, 2, 3, 4, 5, 6], [3, 2], 'bf16');
  assert.deepEqual([...js.gatherRows(table, new Int32Array([2, 0, 2])).toF32()], [5, 6, 1, 2, 5, 6]);
  const dst = Tensor.zeros([2, 2]);
  js.scatterAddRows(dst, Tensor.fromF32([1, 1, 2, 2, 4, 4], [3, 2]), new Int32Array([1, 0, 1]), new Float32Array([0.5, 1, 0.25]));
  assert.deepEqual([...dst.toF32()], [2, 2, 1.5, 1.5]);
  assert.throws(() => js.gatherRows(table, new Int32Array([3])), /gatherRows: index\[0\] = 3 is outside the 3 rows/);
});

test('clear errors: shapes, dtypes, unknown backends', async () => {
  const js = await createBackend('js');
  assert.throws(() => js.matmul(randomTensor([2, 3], 1), randomTensor([4, 5], 2)), /matmul: x \[2, 3\] and w \[4, 5\]: inner dimensions differ/);
  assert.throws(() => js.matmul(randomTensor([2, 3], 1, 1, 'bf16'), randomTensor([4, 3], 2)), /matmul: x must be f32/);
  assert.throws(() => js.add(randomTensor([2, 3], 1), randomTensor([3, 2], 2)), /add: a \[2, 3\] and b \[3, 2\] differ in shape/);
  assert.throws(() => js.matmul(randomTensor([2, 3], 1), randomTensor([4, 3], 2), undefined, Tensor.zeros([2, 5])), /matmul: out has shape \[2, 5\], the result is \[2, 4\]/);
  const unknown = 'tpu' as BackendName;
  await assert.rejects(createBackend(unknown), (e: unknown) => e instanceof KernelUnsupportedError && /backend "tpu" is not available in this build/.test(e.message));
});
