// The wasm backend against the js oracle on awkward shapes, in both builds (plain and relaxed SIMD),
// plus batch invariance, in-place use of its memory, and its errors.
//
// Tolerances:
// - plain SIMD: matmul, rmsNorm, rope, add, scale are bit-identical to js (same operations, same order,
//   every product and sum rounded to f32).
// - relaxed SIMD: matmul rounds each step once (fused a·b+c) instead of twice. Both results are within
//   K·u·Σ|x·w| of the exact sum (u = 2⁻²⁴, sequential f32 summation), so they differ by at most
//   2·K·u·Σ|x·w| (+ one rounding of the bias add).
// - attention (both builds): wasm uses an online softmax over key blocks and a polynomial exp (≤ 2 ulp),
//   js a direct softmax with Math.exp; outputs are convex combinations of v, and each side's error is a
//   few ulp per term plus sequential sums of up to Tk terms, so |Δ| ≤ (16 + 4·Tk)·u·max|v|.
// - siluMul: the polynomial exp (≤ 2 ulp) moves silu by a few ulp: |Δ| ≤ 8·u·|y| (+ 1e-30 near 0).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KernelUnsupportedError, Tensor, WasmBackend, availableBackends, createBackend } from '../src/index.ts';
import type { Backend } from '../src/index.ts';
import { assertBits, assertWithin, matmulF64, randomTensor } from './kernels-oracle.ts';

const U = 2 ** -24;
const js = await createBackend('js');
const plain = (await createBackend('wasm', { relaxedSimd: false })) as WasmBackend;
const auto = (await createBackend('wasm')) as WasmBackend;
const modes: Array<[string, WasmBackend]> = [['plain', plain]];
if (auto.simd === 'relaxed') modes.push(['relaxed', auto]);

test('registry: js and wasm are available, the wasm build is the one asked for', () => {
  assert.ok(availableBackends().includes('js') && availableBackends().includes('wasm'));
  assert.equal(plain.simd, 'plain');
  assert.ok(auto.simd === 'relaxed' || auto.simd === 'plain');
});

const matmulShapes: Array<[number, number, number]> = [
  [1, 1, 1],
  [1, 37, 19],
  [13, 37, 19],
  [8, 64, 4],
  [17, 5, 3],
  [9, 1024, 101], // crosses a weight block (48 f32 rows, 96 bf16 rows at K = 1024)
  [3, 0, 5],
];

for (const [mode, wasm] of modes) {
  test(`${mode}: matmul agrees with js on awkward shapes, f32 and bf16 weights, with and without bias`, () => {
    let seed = 100;
    for (const [m, k, n] of matmulShapes) {
      for (const dtype of ['f32', 'bf16'] as const) {
        for (const withBias of [false, true]) {
          const x = randomTensor([m, k], seed++);
          const w = randomTensor([n, k], seed++, 1, dtype);
          const bias = withBias ? randomTensor([n], seed++) : undefined;
          const expected = js.matmul(x, w, bias);
          const actual = wasm.matmul(x, w, bias);
          const what = `matmul (${m},${k},${n}) ${dtype}${withBias ? ' +bias' : ''}`;
          if (mode === 'plain') assertBits(actual, expected, what);
          else {
            const { magnitude } = matmulF64(x, w);
            const b = bias?.toF32();
            const e = expected.toF32();
            assertWithin(actual.toF32(), e, (i) => 2 * k * U * magnitude[i] + 2 * U * (Math.abs(e[i]) + Math.abs(b?.[i % n] ?? 0)), what);
          }
        }
      }
    }
  });

  test(`${mode}: matmul rows are bit-identical alone, in a batch of 1000, at any position`, () => {
    const x = randomTensor([1000, 67], 1);
    const w = wasm.resident(randomTensor([45, 67], 2, 1, 'bf16'));
    const bias = randomTensor([45], 3);
    const full = wasm.matmul(x, w, bias);
    for (const r of [0, 1, 7, 8, 9, 500, 998, 999]) assertBits(wasm.matmul(x.row(r), w, bias), full.row(r), `row ${r} alone`);
    assertBits(wasm.matmul(x.rows(3, 14), w, bias), full.rows(3, 14), 'rows 3..13');
    // Reversed order: every row lands at another position of the batch.
    const reversed = wasm.gatherRows(x, Int32Array.from({ length: 1000 }, (_, i) => 999 - i));
    const y = wasm.matmul(reversed, w, bias);
    for (let r = 0; r < 1000; r += 37) assertBits(y.row(999 - r), full.row(r), `row ${r} reversed`);
  });

  test(`${mode}: row-wise ops give each row the same bits alone or in a batch`, () => {
    const x = randomTensor([37, 2 * 11], 20, 3);
    const up = randomTensor([37, 2 * 11], 21, 3);
    const weight = randomTensor([11], 22);
    const positions = Int32Array.from({ length: 37 }, (_, i) => 5 * i);
    const rope = { numHeads: 2, headDim: 11, rotaryDim: 6, theta: 10000 };
    const batch = {
      rmsNorm: wasm.rmsNorm(x, weight, 1e-5),
      rope: wasm.rope(x, { ...rope, positions }),
      siluMul: wasm.siluMul(x, up),
    };
    for (const r of [0, 1, 17, 36]) {
      assertBits(wasm.rmsNorm(x.row(r), weight, 1e-5), batch.rmsNorm.row(r), `rmsNorm row ${r}`);
      assertBits(wasm.rope(x.row(r), { ...rope, positions: positions.subarray(r, r + 1) }), batch.rope.row(r), `rope row ${r}`);
      assertBits(wasm.siluMul(x.row(r), up.row(r)), batch.siluMul.row(r), `siluMul row ${r}`);
    }
  });

  test(`${mode}: bf16 weights are widened exactly (same bits as f32 weights holding the bf16 values)`, () => {
    const x = randomTensor([11, 29], 4);
    const w = randomTensor([7, 29], 5, 1, 'bf16');
    assertBits(wasm.matmul(x, w), wasm.matmul(x, w.to('f32')), 'bf16 vs f32 copy');
    assertBits(js.matmul(x, w), js.matmul(x, w.to('f32')), 'js: bf16 vs f32 copy');
    const pick = new Int32Array([6, 0, 6]);
    assertBits(wasm.gatherRows(w, pick), js.gatherRows(w.to('f32'), pick), 'gather bf16');
  });

  test(`${mode}: rmsNorm, rope, add, scale are bit-identical to js; siluMul within a few ulp`, () => {
    for (const [rows, width, slices] of [[1, 1, 1], [5, 7, 1], [3, 6, 4], [4, 64, 2]]) {
      const x = randomTensor([rows, width * slices], 10 + rows, 4);
      for (const dtype of ['f32', 'bf16'] as const) {
        const weight = randomTensor([width], 11, 2, dtype);
        assertBits(wasm.rmsNorm(x, weight, 1e-6), js.rmsNorm(x, weight, 1e-6), `rmsNorm ${rows}x${width}x${slices} ${dtype}`);
      }
    }
    for (const [heads, headDim, rotaryDim] of [[1, 2, 2], [3, 10, 10], [2, 16, 8], [2, 22, 14]]) {
      const x = randomTensor([5, heads * headDim], 12);
      const options = { numHeads: heads, headDim, rotaryDim, theta: 1e6, positions: new Int32Array([0, 1, 17, 4095, 8191]) };
      assertBits(wasm.rope(x, options), js.rope(x, options), `rope h${heads} d${headDim} r${rotaryDim}`);
    }
    for (const shape of [[1, 1], [3, 5], [2, 64], [7, 13]]) {
      const a = randomTensor(shape, 13, 10);
      const b = randomTensor(shape, 14, 10);
      assertBits(wasm.add(a, b), js.add(a, b), `add ${shape}`);
      assertBits(wasm.scale(a, 0.3), js.scale(a, 0.3), `scale ${shape}`);
      const y = js.siluMul(a, b).toF32();
      assertWithin(wasm.siluMul(a, b).toF32(), y, (i) => 8 * U * Math.abs(y[i]) + 1e-30, `siluMul ${shape}`);
    }
    const big = Tensor.fromF32([-200, -88, -30, 0, 30, 88, 200], [1, 7]);
    const ones = Tensor.fromF32([1, 1, 1, 1, 1, 1, 1], [1, 7]);
    const ys = js.siluMul(big, ones).toF32();
    assertWithin(wasm.siluMul(big, ones).toF32(), ys, (i) => 8 * U * Math.abs(ys[i]) + 1e-30, 'siluMul extremes');
  });

  const attentionCases: Array<{ heads: number; kv: number; dim: number; tq: number; tk: number; offset?: number }> = [
    { heads: 1, kv: 1, dim: 1, tq: 1, tk: 1 },
    { heads: 3, kv: 1, dim: 5, tq: 9, tk: 9 },
    { heads: 4, kv: 2, dim: 12, tq: 70, tk: 70 }, // crosses a 64-key block; dims 8 + 4
    { heads: 2, kv: 2, dim: 36, tq: 13, tk: 150, offset: 100 }, // a chunk in the middle; dims 32 + 4
    { heads: 2, kv: 1, dim: 19, tq: 6, tk: 130 }, // the last rows of a longer prompt; dims 16 + 3
  ];

  test(`${mode}: attention agrees with js (GQA, chunks, odd head dims, 1 row)`, () => {
    let seed = 200;
    for (const c of attentionCases) {
      const q = randomTensor([c.tq, c.heads * c.dim], seed++, 2);
      const k = randomTensor([c.tk, c.kv * c.dim], seed++, 2);
      const v = randomTensor([c.tk, c.kv * c.dim], seed++);
      const options = { numHeads: c.heads, numKvHeads: c.kv, headDim: c.dim, queryOffset: c.offset };
      const tol = (16 + 4 * c.tk) * U;
      assertWithin(wasm.attention(q, k, v, options).toF32(), js.attention(q, k, v, options).toF32(), () => tol, `attention ${JSON.stringify(c)}`);
    }
  });

  test(`${mode}: attention with values of another width than q and k (valueHeadDim) agrees with js`, () => {
    let seed = 250;
    for (const c of [
      { heads: 4, kv: 4, dim: 48, vdim: 24, tq: 70, tk: 70 },
      { heads: 3, kv: 1, dim: 12, vdim: 19, tq: 9, tk: 140, offset: 131 },
      { heads: 2, kv: 2, dim: 5, vdim: 3, tq: 6, tk: 6 },
    ]) {
      const q = randomTensor([c.tq, c.heads * c.dim], seed++, 2);
      const k = randomTensor([c.tk, c.kv * c.dim], seed++, 2);
      const v = randomTensor([c.tk, c.kv * c.vdim], seed++);
      const options = { numHeads: c.heads, numKvHeads: c.kv, headDim: c.dim, valueHeadDim: c.vdim, queryOffset: c.offset };
      const y = wasm.attention(q, k, v, options);
      assert.deepEqual(y.shape, [c.tq, c.heads * c.vdim]);
      assertWithin(y.toF32(), js.attention(q, k, v, options).toF32(), () => (16 + 4 * c.tk) * U, `attention ${JSON.stringify(c)}`);
    }
  });

  test(`${mode}: rope with inverse frequencies and attention scaling is bit-identical to js`, () => {
    const x = randomTensor([4, 3 * 10], 260);
    const options = {
      numHeads: 3,
      headDim: 10,
      rotaryDim: 8,
      theta: 10000,
      positions: new Int32Array([0, 9, 300, 5000]),
      inverseFrequencies: Float32Array.from([1, 0.1, 0.01, 0.0001]),
      attentionScaling: 1.3,
    };
    assertBits(wasm.rope(x, options), js.rope(x, options), 'scaled rope');
  });

  test(`${mode}: attention on a long prompt (1100 tokens) agrees with js`, () => {
    const q = randomTensor([1100, 2 * 16], 300, 3);
    const k = randomTensor([1100, 16], 301, 3);
    const v = randomTensor([1100, 16], 302);
    const options = { numHeads: 2, numKvHeads: 1, headDim: 16 };
    assertWithin(wasm.attention(q, k, v, options).toF32(), js.attention(q, k, v, options).toF32(), () => (16 + 4 * 1100) * U, 'attention 1100');
  });

  test(`${mode}: a query row's attention is bit-identical whatever other rows or later keys share the call`, () => {
    const q = randomTensor([200, 3 * 20], 400, 2);
    const k = randomTensor([200, 20], 401, 2);
    const v = randomTensor([200, 20], 402);
    const options = { numHeads: 3, numKvHeads: 1, headDim: 20 };
    const full = wasm.attention(q, k, v, options);
    for (const r of [0, 1, 5, 63, 64, 65, 130, 199]) {
      assertBits(wasm.attention(q.row(r), k, v, { ...options, queryOffset: r }), full.row(r), `row ${r} alone`);
      // A shorter prompt with the same prefix: the keys after the row do not matter.
      assertBits(wasm.attention(q.row(r), k.rows(0, r + 1), v.rows(0, r + 1), options), full.row(r), `row ${r}, prompt of ${r + 1}`);
    }
    for (const [a, b] of [[3, 10], [61, 131], [190, 200]]) {
      assertBits(wasm.attention(q.rows(a, b), k, v, { ...options, queryOffset: a }), full.rows(a, b), `chunk ${a}..${b}`);
    }
  });

  test(`${mode}: attention memory is linear in the prompt`, async () => {
    const fresh = (await createBackend('wasm', { relaxedSimd: mode === 'relaxed' })) as WasmBackend;
    const t = 4096;
    const q = fresh.resident(randomTensor([t, 64], 500));
    const k = fresh.resident(randomTensor([t, 64], 501));
    const v = fresh.resident(randomTensor([t, 64], 502));
    const before = fresh.arena.used;
    fresh.attention(q, k, v, { numHeads: 1, numKvHeads: 1, headDim: 64 });
    // Output (t·64 floats) + a key block + (max, sum) per row: far below one t×t score matrix (64 MiB).
    const extra = fresh.arena.peakUsed - before;
    assert.ok(extra <= t * 64 * 4 + t * 8 + 64 * 64 * 4 + 4096, `attention used ${extra} bytes beyond its inputs`);
    fresh.dispose();
  });
}

test('wasm memory: resident and arena tensors are used in place; out may alias an input', () => {
  const x = randomTensor([6, 40], 600);
  const w = randomTensor([9, 40], 601);
  const expected = js.matmul(x, w);
  const xr = plain.resident(x);
  const wr = plain.resident(w);
  assert.equal(xr.buffer, plain.memory.buffer);
  const out = plain.arena.alloc([6, 9]);
  assert.equal(plain.matmul(xr, wr, undefined, out), out);
  assertBits(out, expected, 'resident matmul into arena out');
  const a = randomTensor([3, 7], 602);
  const b = randomTensor([3, 7], 603);
  const sum = js.add(a, b);
  const inPlace = a.clone();
  plain.add(inPlace, b, inPlace);
  assertBits(inPlace, sum, 'add in place, outside wasm memory');
  const ar = plain.resident(a);
  plain.add(ar, b, ar);
  assertBits(ar, sum, 'add in place, in wasm memory');
  const rows = plain.resident(randomTensor([4, 8], 604));
  const rotated = js.rope(rows, { numHeads: 2, headDim: 4, theta: 10000, positions: new Int32Array([3, 4, 5, 6]) });
  plain.rope(rows, { numHeads: 2, headDim: 4, theta: 10000, positions: new Int32Array([3, 4, 5, 6]) }, rows);
  assertBits(rows, rotated, 'rope in place');
  for (const t of [xr, wr, out, ar, rows]) plain.release(t);
});

test('rope tables are built once and grow with the positions: any positions, any call order, same bits as a fresh table', async () => {
  const options = { numHeads: 2, headDim: 8, theta: 10000 };
  const x = randomTensor([4, 16], 650);
  const far = new Int32Array([5000, 3, 70, 4095]);
  for (const name of ['js', 'wasm'] as const) {
    const grown = await createBackend(name);
    grown.rope(x, { ...options, positions: new Int32Array([0, 1, 2, 3]) });
    const afterGrowth = grown.rope(x, { ...options, positions: far });
    const fresh = await createBackend(name);
    assertBits(afterGrowth, fresh.rope(x, { ...options, positions: far }), `${name}: table grown across calls`);
    assertBits(afterGrowth, js.rope(x, { ...options, positions: far }), `${name} vs js`);
    assert.throws(() => grown.rope(x, { ...options, positions: new Int32Array([0, -1, 2, 3]) }), /rope: position -1 of row 1 is negative/);
    grown.dispose();
    fresh.dispose();
  }
});

test('wasm errors: missing dtypes, overlapping out, use after dispose', async () => {
  const x = randomTensor([2, 4], 700);
  assert.throws(
    () => plain.matmul(x, randomTensor([3, 4], 701, 1, 'f16')),
    (e: unknown) => e instanceof KernelUnsupportedError && /wasm backend: matmul cannot read w of dtype f16 \(accepts f32, bf16\)/.test(e.message),
  );
  assert.throws(() => plain.matmul(x, randomTensor([3, 5], 702)), /matmul: x \[2, 4\] and w \[3, 5\]: inner dimensions differ/);
  const square = randomTensor([4, 4], 703);
  assert.throws(() => plain.matmul(square, randomTensor([4, 4], 704), undefined, square), /matmul: out overlaps x/);
  assert.throws(() => plain.attention(x, x, x, { numHeads: 3, numKvHeads: 1, headDim: 4 }), /attention: q \[2, 4\] rows must be numHeads\*headDim = 12 wide/);
  const gone = await createBackend('wasm');
  gone.dispose();
  assert.throws(() => gone.add(x, x), /wasm backend: used after dispose\(\)/);
});

test('js and wasm agree on the shared ops (router, gather, scatter)', () => {
  const backends: Backend[] = [js, plain];
  const logits = randomTensor([9, 16], 800, 3);
  const [a, b] = backends.map((be) => be.routerTopK(logits, { topK: 4, renormalize: true }));
  assert.deepEqual(a, b);
  const dst = backends.map(() => randomTensor([5, 6], 801));
  const src = randomTensor([7, 6], 802);
  const index = new Int32Array([4, 0, 4, 2, 2, 4, 1]);
  const scale = new Float32Array([0.5, 1, 2, 0.25, 1, 3, 1]);
  backends.forEach((be, i) => be.scatterAddRows(dst[i], src, index, scale));
  assertBits(dst[1], dst[0], 'scatterAddRows');
});
