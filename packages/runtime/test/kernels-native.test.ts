// The native backend against the js oracle on awkward shapes, on every instruction set this CPU runs, plus
// batch invariance, thread-count invariance, in-place use of any memory, its errors, and the build's skip path.
//
// Tolerances (as for the wasm relaxed build; see kernels-wasm.test.ts):
// - matmul: one fused multiply-add per k in order, so within 2·K·u·Σ|x·w| (+ the bias add) of js; the same
//   bits on every instruction set (each output is the same chain of fused multiply-adds).
// - attention: online softmax over key blocks, polynomial exp (≤ 2 ulp): |Δ| ≤ (16 + 4·Tk)·u·max|v|.
// - siluMul: |Δ| ≤ 8·u·|y|. rmsNorm, rope, add, scale, gatherRows, scatterAddRows: the js bits.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import {
  Arena,
  NativeBackend,
  Tensor,
  availableBackends,
  createBackend,
  defaultBackend,
  unavailableBackends,
} from '../src/index.ts';
import { loadNativeAddon, nativeAddon } from '../src/kernels/native/addon.ts';
import { assertBits, assertWithin, matmulF64, randomTensor } from './kernels-oracle.ts';

const U = 2 ** -24;
const loaded = nativeAddon();
const skip = 'addon' in loaded ? false : `native backend unavailable: ${loaded.reason}`;

test('the build skips without a toolchain in one line, and the backend then says why', () => {
  const out = mkdtempSync(join(tmpdir(), 'asap-native-'));
  try {
    const script = fileURLToPath(new URL('../scripts/build-native.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [script], { env: { ...process.env, ASAP_NATIVE: '0', ASAP_NATIVE_OUT: out }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'build-native: skipped, the native backend will be unavailable (ASAP_NATIVE=0 in the environment)\n');
    const state = loadNativeAddon(join(out, 'asap_native.node'), join(out, 'unavailable.txt'));
    assert.ok('reason' in state && /ASAP_NATIVE=0 in the environment; build it with/.test(state.reason), JSON.stringify(state));
    const missing = loadNativeAddon(join(out, 'none.node'), join(out, 'none.txt'));
    assert.ok('reason' in missing && /none\.node did not load/.test(missing.reason));
    assert.match(readFileSync(join(out, 'unavailable.txt'), 'utf8'), /ASAP_NATIVE=0/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('registry: native is listed where built, else reported with its reason; the default is the fastest available', () => {
  if ('addon' in loaded) {
    assert.ok(availableBackends().includes('native'));
    assert.equal(defaultBackend(), 'native');
    assert.deepEqual(unavailableBackends().filter((b) => b.name !== 'cuda'), []);
  } else {
    assert.ok(!availableBackends().includes('native'));
    assert.equal(defaultBackend(), 'wasm');
    assert.deepEqual(unavailableBackends().map((b) => b.name).filter((name) => name !== 'cuda'), ['native']);
  }
});

if (skip) {
  test('native kernels', { skip }, () => {});
} else {
  const js = await createBackend('js');
  const isas = ('addon' in loaded ? loaded.addon.isas : []).slice();
  const backends: Array<[string, NativeBackend]> = [];
  for (const isa of isas) backends.push([isa, await NativeBackend.create({ isa })]);
  const best = (await createBackend('native')) as NativeBackend;
  const threaded = await NativeBackend.create({ threads: 3 });

  test('native picks the best instruction set this CPU runs, one thread unless told', (t) => {
    t.diagnostic(`instruction sets: ${isas.join(', ')}`);
    assert.ok(isas.includes('generic'));
    assert.equal(best.isa, isas[0]);
    assert.equal(best.threads, 1);
    assert.equal(threaded.threads, 3);
  });

  const matmulShapes: Array<[number, number, number]> = [
    [1, 1, 1], [1, 37, 19], [13, 37, 19], [8, 64, 4], [17, 5, 3], [33, 64, 25], [9, 1024, 101], [3, 0, 5], [70, 300, 13],
  ];

  test('matmul agrees with js on awkward shapes (f32, bf16, f16 weights, bias), the same bits on every instruction set', () => {
    let seed = 100;
    for (const [m, k, n] of matmulShapes) {
      for (const dtype of ['f32', 'bf16', 'f16'] as const) {
        for (const withBias of [false, true]) {
          const x = randomTensor([m, k], seed++);
          const w = randomTensor([n, k], seed++, 1, dtype);
          const bias = withBias ? randomTensor([n], seed++) : undefined;
          const e = js.matmul(x, w, bias).toF32();
          const { magnitude } = matmulF64(x, w);
          const b = bias?.toF32();
          const what = `matmul (${m},${k},${n}) ${dtype}${withBias ? ' +bias' : ''}`;
          const first = best.matmul(x, w, bias);
          assertWithin(first.toF32(), e, (i) => 2 * k * U * magnitude[i] + 2 * U * (Math.abs(e[i]) + Math.abs(b?.[i % n] ?? 0)), what);
          for (const [isa, be] of backends) assertBits(be.matmul(x, w, bias), first, `${what} on ${isa}`);
          assertBits(threaded.matmul(x, w, bias), first, `${what}, 3 threads`);
        }
      }
    }
  });

  test('matmul rows are bit-identical alone, in a batch of 1000, at any position, with any thread count', () => {
    const x = randomTensor([1000, 67], 1);
    const w = randomTensor([45, 67], 2, 1, 'bf16');
    const bias = randomTensor([45], 3);
    for (const [isa, be] of backends) {
      const full = be.matmul(x, w, bias);
      for (const r of [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 500, 998, 999]) assertBits(be.matmul(x.row(r), w, bias), full.row(r), `${isa}: row ${r} alone`);
      assertBits(be.matmul(x.rows(3, 14), w, bias), full.rows(3, 14), `${isa}: rows 3..13`);
      assertBits(be.matmul(x.rows(5, 60), w, bias), full.rows(5, 60), `${isa}: rows 5..59`);
      const reversed = be.gatherRows(x, Int32Array.from({ length: 1000 }, (_, i) => 999 - i));
      const y = be.matmul(reversed, w, bias);
      for (let r = 0; r < 1000; r += 37) assertBits(y.row(999 - r), full.row(r), `${isa}: row ${r} reversed`);
    }
    // Large enough that the threaded backend splits the columns.
    const xs = randomTensor([300, 256], 4);
    const ws = randomTensor([200, 256], 5);
    assertBits(threaded.matmul(xs, ws), best.matmul(xs, ws), '3 threads vs 1');
    assertBits(threaded.matmul(xs.rows(17, 18), ws), best.matmul(xs, ws).row(17), '3 threads, one row');
  });

  test('row-wise ops give each row the same bits alone or in a batch', () => {
    const x = randomTensor([37, 2 * 11], 20, 3);
    const up = randomTensor([37, 2 * 11], 21, 3);
    const weight = randomTensor([11], 22);
    const positions = Int32Array.from({ length: 37 }, (_, i) => 5 * i);
    const rope = { numHeads: 2, headDim: 11, rotaryDim: 6, theta: 10000 };
    for (const [isa, be] of backends) {
      const batch = { rmsNorm: be.rmsNorm(x, weight, 1e-5), rope: be.rope(x, { ...rope, positions }), siluMul: be.siluMul(x, up) };
      for (const r of [0, 1, 17, 36]) {
        assertBits(be.rmsNorm(x.row(r), weight, 1e-5), batch.rmsNorm.row(r), `${isa}: rmsNorm row ${r}`);
        assertBits(be.rope(x.row(r), { ...rope, positions: positions.subarray(r, r + 1) }), batch.rope.row(r), `${isa}: rope row ${r}`);
        assertBits(be.siluMul(x.row(r), up.row(r)), batch.siluMul.row(r), `${isa}: siluMul row ${r}`);
      }
    }
  });

  test('rmsNorm, rope, add, scale, gather and scatter give the js bits; siluMul within a few ulp', () => {
    for (const [isa, be] of backends) {
      for (const [rows, width, slices] of [[1, 1, 1], [5, 7, 1], [3, 6, 4], [4, 64, 2], [11, 40, 3], [2, 256, 1]]) {
        const x = randomTensor([rows, width * slices], 10 + rows, 4);
        for (const dtype of ['f32', 'bf16', 'f16'] as const) {
          const weight = randomTensor([width], 11, 2, dtype);
          assertBits(be.rmsNorm(x, weight, 1e-6), js.rmsNorm(x, weight, 1e-6), `${isa}: rmsNorm ${rows}x${width}x${slices} ${dtype}`);
        }
      }
      for (const [heads, headDim, rotaryDim] of [[1, 2, 2], [3, 10, 10], [2, 16, 8], [2, 22, 14], [4, 64, 64], [1, 70, 68]]) {
        const x = randomTensor([5, heads * headDim], 12);
        const options = { numHeads: heads, headDim, rotaryDim, theta: 1e6, positions: new Int32Array([0, 1, 17, 4095, 8191]) };
        assertBits(be.rope(x, options), js.rope(x, options), `${isa}: rope h${heads} d${headDim} r${rotaryDim}`);
      }
      for (const shape of [[1, 1], [3, 5], [2, 64], [7, 13], [3, 67]]) {
        const a = randomTensor(shape, 13, 10);
        const b = randomTensor(shape, 14, 10);
        assertBits(be.add(a, b), js.add(a, b), `${isa}: add ${shape}`);
        assertBits(be.scale(a, 0.3), js.scale(a, 0.3), `${isa}: scale ${shape}`);
        const y = js.siluMul(a, b).toF32();
        assertWithin(be.siluMul(a, b).toF32(), y, (i) => 8 * U * Math.abs(y[i]) + 1e-30, `${isa}: siluMul ${shape}`);
      }
      const big = Tensor.fromF32([-200, -88, -30, 0, 30, 88, 200], [1, 7]);
      const ones = Tensor.fromF32([1, 1, 1, 1, 1, 1, 1], [1, 7]);
      const ys = js.siluMul(big, ones).toF32();
      assertWithin(be.siluMul(big, ones).toF32(), ys, (i) => 8 * U * Math.abs(ys[i]) + 1e-30, `${isa}: siluMul extremes`);
      for (const dtype of ['f32', 'bf16', 'f16'] as const) {
        const table = randomTensor([9, 37], 15, 3, dtype);
        const pick = new Int32Array([8, 0, 8, 3]);
        assertBits(be.gatherRows(table, pick), js.gatherRows(table, pick), `${isa}: gatherRows ${dtype}`);
      }
      const index = new Int32Array([4, 0, 4, 2, 2, 4, 1]);
      const src = randomTensor([7, 21], 16);
      for (const scale of [undefined, new Float32Array([0.5, 1, 2, 0.25, 1, 3, 1])]) {
        const expected = js.scatterAddRows(randomTensor([5, 21], 17), src, index, scale);
        assertBits(be.scatterAddRows(randomTensor([5, 21], 17), src, index, scale), expected, `${isa}: scatterAddRows`);
      }
      const logits = randomTensor([19, 32], 18, 3);
      for (const renormalize of [true, false]) {
        assert.deepEqual(be.routerTopK(logits, { topK: 4, renormalize }), js.routerTopK(logits, { topK: 4, renormalize }), `${isa}: router`);
      }
    }
  });

  const attentionCases: Array<{ heads: number; kv: number; dim: number; tq: number; tk: number; offset?: number }> = [
    { heads: 1, kv: 1, dim: 1, tq: 1, tk: 1 },
    { heads: 3, kv: 1, dim: 5, tq: 9, tk: 9 },
    { heads: 4, kv: 2, dim: 12, tq: 70, tk: 70 },
    { heads: 2, kv: 2, dim: 36, tq: 13, tk: 150, offset: 100 },
    { heads: 2, kv: 1, dim: 19, tq: 6, tk: 130 },
    { heads: 8, kv: 4, dim: 64, tq: 40, tk: 140, offset: 90 },
    { heads: 2, kv: 1, dim: 80, tq: 20, tk: 20 },
  ];

  test('attention agrees with js (GQA, chunks, odd head dims, 1 row) on every instruction set', () => {
    for (const [isa, be] of backends) {
      let seed = 200;
      for (const c of attentionCases) {
        const q = randomTensor([c.tq, c.heads * c.dim], seed++, 2);
        const k = randomTensor([c.tk, c.kv * c.dim], seed++, 2);
        const v = randomTensor([c.tk, c.kv * c.dim], seed++);
        const options = { numHeads: c.heads, numKvHeads: c.kv, headDim: c.dim, queryOffset: c.offset };
        const tol = (16 + 4 * c.tk) * U;
        const expected = js.attention(q, k, v, options).toF32();
        assertWithin(be.attention(q, k, v, options).toF32(), expected, () => tol, `${isa}: attention ${JSON.stringify(c)}`);
      }
    }
  });

  test('attention on a long prompt (1100 tokens) agrees with js', () => {
    const q = randomTensor([1100, 2 * 16], 300, 3);
    const k = randomTensor([1100, 16], 301, 3);
    const v = randomTensor([1100, 16], 302);
    const options = { numHeads: 2, numKvHeads: 1, headDim: 16 };
    assertWithin(best.attention(q, k, v, options).toF32(), js.attention(q, k, v, options).toF32(), () => (16 + 4 * 1100) * U, 'attention 1100');
  });

  test("a query row's attention is bit-identical whatever other rows, later keys or threads share the call", () => {
    const q = randomTensor([200, 4 * 20], 400, 2);
    const k = randomTensor([200, 2 * 20], 401, 2);
    const v = randomTensor([200, 2 * 20], 402);
    const options = { numHeads: 4, numKvHeads: 2, headDim: 20 };
    for (const [isa, be] of backends) {
      const full = be.attention(q, k, v, options);
      for (const r of [0, 1, 5, 15, 16, 17, 63, 64, 65, 130, 199]) {
        assertBits(be.attention(q.row(r), k, v, { ...options, queryOffset: r }), full.row(r), `${isa}: row ${r} alone`);
        assertBits(be.attention(q.row(r), k.rows(0, r + 1), v.rows(0, r + 1), options), full.row(r), `${isa}: row ${r}, prompt of ${r + 1}`);
      }
      for (const [a, b] of [[3, 10], [61, 131], [190, 200]]) {
        assertBits(be.attention(q.rows(a, b), k, v, { ...options, queryOffset: a }), full.rows(a, b), `${isa}: chunk ${a}..${b}`);
      }
    }
    const big = { q: randomTensor([600, 8 * 64], 403), k: randomTensor([600, 2 * 64], 404), v: randomTensor([600, 2 * 64], 405) };
    const o = { numHeads: 8, numKvHeads: 2, headDim: 64 };
    assertBits(threaded.attention(big.q, big.k, big.v, o), best.attention(big.q, big.k, big.v, o), 'attention, 3 threads vs 1');
  });

  test('kernels compute in place on any memory: arena tensors, plain buffers, out aliasing an input', () => {
    const arena = new Arena({ name: 'native test', bytes: 1 << 20 });
    const x = arena.alloc([6, 40]);
    x.data.set(randomTensor([6, 40], 600).data);
    const w = randomTensor([9, 40], 601);
    assert.equal(best.resident(w), w);
    const out = arena.alloc([6, 9]);
    assert.equal(best.matmul(x, w, undefined, out), out);
    assertBits(out, best.matmul(x.clone(), w), 'arena matmul into arena out');
    const plain = Tensor.over(new ArrayBuffer(6 * 40 * 4), 0, [6, 40], 'f32');
    plain.data.set(x.data);
    assertBits(best.matmul(plain, w), out, 'matmul on an ArrayBuffer tensor');
    const a = randomTensor([3, 7], 602);
    const b = randomTensor([3, 7], 603);
    const sum = js.add(a, b);
    best.add(a, b, a);
    assertBits(a, sum, 'add in place');
    const rows = randomTensor([4, 8], 604);
    const rope = { numHeads: 2, headDim: 4, theta: 10000, positions: new Int32Array([3, 4, 5, 6]) };
    const rotated = js.rope(rows, rope);
    best.rope(rows, rope, rows);
    assertBits(rows, rotated, 'rope in place');
    const g = randomTensor([3, 9], 605, 4);
    const u = randomTensor([3, 9], 606);
    const gated = best.siluMul(g, u);
    best.siluMul(g, u, g);
    assertBits(g, gated, 'siluMul in place');
    const view = randomTensor([10, 16], 607);
    const expected = js.scale(view.rows(2, 5), 3);
    best.scale(view.rows(2, 5), 3, view.rows(2, 5));
    assertBits(view.rows(2, 5), expected, 'scale on a row view, in place');
  });

  test('native errors: dtypes, shapes, overlapping out, bad indices, threads, use after dispose', async () => {
    const x = randomTensor([2, 4], 700);
    assert.throws(() => best.matmul(x, randomTensor([3, 5], 702)), /matmul: x \[2, 4\] and w \[3, 5\]: inner dimensions differ/);
    const square = randomTensor([4, 4], 703);
    assert.throws(() => best.matmul(square, randomTensor([4, 4], 704), undefined, square), /matmul: out overlaps x/);
    assert.throws(() => best.add(x.to('bf16'), x), /add: a must be f32/);
    assert.throws(
      () => best.attention(x, x, x, { numHeads: 3, numKvHeads: 1, headDim: 4 }),
      /attention: q \[2, 4\] rows must be numHeads\*headDim = 12 wide/,
    );
    assert.throws(() => best.gatherRows(x, new Int32Array([0, 2])), /gatherRows: index\[1\] = 2 is outside the 2 rows of x \[2, 4\]/);
    assert.throws(() => best.scatterAddRows(x, x, new Int32Array([0, -1])), /scatterAddRows: index\[1\] = -1 is outside the 2 rows/);
    assert.throws(() => best.routerTopK(x, { topK: 5, renormalize: true }), /routerTopK: topK 5 must be in 1\.\.4/);
    assert.throws(() => best.routerTopK(Tensor.fromF32([0, NaN], [1, 2]), { topK: 1, renormalize: true }), /routerTopK: logits row 0, expert 1 is NaN/);
    await assert.rejects(() => createBackend('native', { threads: 0 }), /native backend: threads must be an integer in 1\.\.256, got 0/);
    const gone = await createBackend('native');
    gone.dispose();
    assert.throws(() => gone.add(x, x), /native backend: used after dispose\(\)/);
  });
}
