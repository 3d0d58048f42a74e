// The cuda backend. Here (any machine): the build skips in one line without nvcc, the addon builds and loads
// wherever nvcc exists, and without a GPU the backend reports itself unavailable with the reason and is never
// a default. Where a GPU is present: agreement with the js oracle, batch invariance, resident weights, the
// device memory budget, its errors. Without one those are reported SKIPPED ('no CUDA device: <reason>').
//
// Tolerances (u = 2⁻²⁴):
// - matmul, f32/f16 weights (CUDA cores, one fused multiply-add per k in order): 2·K·u·Σ|x·w| (+ the bias add).
// - matmul, bf16 weights, tensor cores, f32 accumulation: activations split hi + lo lose ≤ 2⁻¹⁷·|x|; accumulation
//   in the MMA unit (its own order and rounding): (2⁻¹⁶ + 4·K·u)·Σ|x·w|. With 'bf16' activations: (2⁻⁸ + 4·K·u)·Σ|x·w|.
// - attention: online softmax over tiles of 32 keys, expf (≤ 2 ulp): (64 + 8·Tk)·u·max|v|. On tensor cores
//   (attentionPrecision 'bf16': q, k, v, p rounded to bf16): 2⁻⁵ for these inputs (|q|, |k| ≤ 2, |v| ≤ 1), an
//   empirical bound: ≤ 4.6e-3 in the CPU transcription of the kernel.
// - rmsNorm: a tree sum instead of js's ordered one: (2·width + 16)·u·|y|. siluMul (expf): 16·u·|y|.
// - rope, add, scale, gatherRows, scatterAddRows: the js bits (separately rounded ops in js's order).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type TestContext, after, test } from 'node:test';
import {
  type Backend,
  CudaBackend,
  DeviceMemoryExceededError,
  Tensor,
  availableBackends,
  createBackend,
  cudaUnavailableReason,
  defaultBackend,
  unavailableBackends,
} from '../src/index.ts';
import { cudaAddon, loadCudaAddon } from '../src/kernels/cuda/addon.ts';
import { assertBits, assertWithin, matmulF64, randomTensor } from './kernels-oracle.ts';

const U = 2 ** -24;
const reason = cudaUnavailableReason();
const skip = reason === undefined ? false : `no CUDA device: ${reason}`;
const script = fileURLToPath(new URL('../scripts/build-cuda.mjs', import.meta.url));
const builtAddon = fileURLToPath(new URL('../build/cuda/asap_cuda.node', import.meta.url));
const nvcc = ((): string | undefined => {
  for (const c of process.env.NVCC ? [process.env.NVCC] : ['nvcc', '/usr/local/cuda/bin/nvcc']) {
    const r = spawnSync(c, ['--version'], { stdio: 'ignore' });
    if (!r.error && r.status === 0) return c;
  }
  return undefined;
})();

const cxx = process.env.CXX ?? 'c++';
const hasCxx = ((): boolean => {
  const r = spawnSync(cxx, ['--version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
})();

test('the CUDA build skips in one line when told (or without nvcc), and the backend then says why', () => {
  const out = mkdtempSync(join(tmpdir(), 'asap-cuda-'));
  try {
    const r = spawnSync(process.execPath, [script], { env: { ...process.env, ASAP_CUDA: '0', ASAP_CUDA_OUT: out }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'build-cuda: skipped, the cuda backend will be unavailable (ASAP_CUDA=0 in the environment)\n');
    const state = loadCudaAddon(join(out, 'asap_cuda.node'), join(out, 'unavailable.txt'));
    assert.ok('reason' in state && /ASAP_CUDA=0 in the environment; build it with/.test(state.reason), JSON.stringify(state));
    assert.match(readFileSync(join(out, 'unavailable.txt'), 'utf8'), /ASAP_CUDA=0/);
    const none = spawnSync(process.execPath, [script], { env: { ...process.env, NVCC: '/nonexistent/nvcc', ASAP_CUDA_OUT: out }, encoding: 'utf8' });
    assert.equal(none.status, 0, none.stderr);
    assert.match(none.stdout, /^build-cuda: skipped, the cuda backend will be unavailable \(no nvcc \(tried \/nonexistent\/nvcc; set NVCC to its path\)\)\n$/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the CUDA addon builds wherever nvcc exists, loads without a driver, and says why no kernel can run', { skip: !nvcc && 'no nvcc on this machine' }, () => {
  assert.ok(existsSync(builtAddon), `${builtAddon} was not built though nvcc exists: ${readFileSyncOr(builtAddon.replace(/asap_cuda\.node$/, 'unavailable.txt'))}`);
  const loaded = cudaAddon();
  if ('reason' in loaded) {
    // The addon itself loaded (a build reason or load error would name the file or the build, not the device).
    assert.match(loaded.reason, /^(no CUDA driver|no device|CUDA runtime error|device 0 \()/, loaded.reason);
  } else {
    assert.ok(loaded.device.devices >= 1 && /^\d+\.\d+$/.test(loaded.device.computeCapability));
  }
});

function readFileSyncOr(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '(no reason recorded)';
  }
}

test('the indexing of the tensor-core matmul and flash attention, transcribed to C++, matches plain loops on ragged shapes', { skip: !hasCxx && 'no C++ compiler' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'asap-tiling-'));
  try {
    const source = fileURLToPath(new URL('../native-cuda/emulate/tiling.cc', import.meta.url));
    const binary = join(dir, 'tiling');
    const built = spawnSync(cxx, ['-O2', '-std=c++17', source, '-o', binary], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    const ran = spawnSync(binary, [], { encoding: 'utf8' });
    assert.equal(ran.status, 0, ran.stdout);
    assert.match(ran.stdout, /all ok\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('registry: cuda is listed only with a device, else reported with its reason; it is never the default', async () => {
  assert.notEqual(defaultBackend(), 'cuda');
  if (reason === undefined) {
    assert.ok(availableBackends().includes('cuda'));
    return;
  }
  assert.ok(!availableBackends().includes('cuda'));
  assert.deepEqual(unavailableBackends().find((b) => b.name === 'cuda'), { name: 'cuda', reason });
  await assert.rejects(() => createBackend('cuda'), (e: Error) => e.message === `cuda backend unavailable: ${reason}`);
  await assert.rejects(() => CudaBackend.create(), /^KernelUnsupportedError: cuda backend unavailable: /);
});

/** The backends the GPU tests share, made on first use (never where there is no device). */
let made: { js: Backend; cuda: CudaBackend; rounded: CudaBackend } | undefined;
async function backends(): Promise<{ js: Backend; cuda: CudaBackend; rounded: CudaBackend }> {
  made ??= {
    js: await createBackend('js'),
    cuda: (await createBackend('cuda')) as CudaBackend,
    rounded: (await createBackend('cuda', { matmulActivations: 'bf16' })) as CudaBackend,
  };
  return made;
}
after(() => {
  made?.cuda.dispose();
  made?.rounded.dispose();
});

/** A test that needs a GPU: reported SKIPPED, with the reason, where there is none. */
function gpuTest(name: string, fn: (b: { js: Backend; cuda: CudaBackend; rounded: CudaBackend }, t: TestContext) => void | Promise<void>): void {
  test(name, { skip }, async (t) => fn(await backends(), t));
}

gpuTest('cuda device and budget', ({ cuda }, t) => {
  const { usedBytes, budgetBytes } = cuda.deviceMemory;
  t.diagnostic(`${cuda.deviceName}: ${usedBytes} of ${budgetBytes} device bytes in use`);
  assert.ok(budgetBytes > 0 && usedBytes <= budgetBytes);
});

const matmulShapes: Array<[number, number, number]> = [
  [1, 1, 1], [1, 37, 19], [13, 37, 19], [8, 64, 4], [17, 5, 3], [33, 64, 25], [9, 1024, 101], [3, 0, 5], [70, 300, 13],
  [1, 8, 1], [129, 40, 130], [200, 264, 257], [256, 512, 384],
];

gpuTest('matmul agrees with js on ragged shapes (f32, bf16 on tensor cores, f16; bias; resident or not)', ({ js, cuda, rounded }) => {
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
        const tc = dtype === 'bf16' && k % 8 === 0;
        const add = (i: number) => 2 * U * (Math.abs(e[i]) + Math.abs(b?.[i % n] ?? 0));
        const split = (i: number) => (tc ? 2 ** -16 + 4 * k * U : 2 * k * U) * magnitude[i] + add(i);
        const one = (i: number) => (tc ? 2 ** -8 + 4 * k * U : 2 * k * U) * magnitude[i] + add(i);
        const y = cuda.matmul(x, w, bias);
        assertWithin(y.toF32(), e, split, what);
        assertWithin(rounded.matmul(x, w, bias).toF32(), e, one, `${what}, bf16 activations`);
        cuda.resident(w);
        if (bias) cuda.resident(bias);
        assertBits(cuda.matmul(x, w, bias), y, `${what}, resident weights`);
      }
    }
  }
});

gpuTest('matmul rows are bit-identical alone, in a batch of 1000 or at any position (tensor cores and CUDA cores)', ({ js, cuda, rounded }) => {
  for (const [dtype, k] of [['bf16', 72], ['bf16', 67], ['f32', 67]] as const) {
    const x = randomTensor([1000, k], 1);
    const w = randomTensor([45, k], 2, 1, dtype);
    const bias = randomTensor([45], 3);
    for (const be of [cuda, rounded]) {
      const full = be.matmul(x, w, bias);
      for (const r of [0, 1, 7, 127, 128, 129, 500, 999]) assertBits(be.matmul(x.row(r), w, bias), full.row(r), `${dtype} K=${k}: row ${r} alone`);
      assertBits(be.matmul(x.rows(3, 140), w, bias), full.rows(3, 140), `${dtype} K=${k}: rows 3..139`);
      const reversed = js.gatherRows(x, Int32Array.from({ length: 1000 }, (_, i) => 999 - i));
      const y = be.matmul(reversed, w, bias);
      for (let r = 0; r < 1000; r += 37) assertBits(y.row(999 - r), full.row(r), `${dtype} K=${k}: row ${r} reversed`);
    }
  }
});

gpuTest('rope, add, scale, gather and scatter give the js bits; rmsNorm, siluMul and the router within bounds', ({ js, cuda }) => {
  for (const [rows, width, slices] of [[1, 1, 1], [5, 7, 1], [3, 6, 4], [4, 64, 2], [11, 40, 3], [2, 256, 1], [3, 4096, 1], [2, 700, 1]]) {
    const x = randomTensor([rows, width * slices], 10 + rows, 4);
    for (const dtype of ['f32', 'bf16', 'f16'] as const) {
      const weight = randomTensor([width], 11, 2, dtype);
      const e = js.rmsNorm(x, weight, 1e-6).toF32();
      assertWithin(cuda.rmsNorm(x, weight, 1e-6).toF32(), e, (i) => (2 * width + 16) * U * Math.abs(e[i]) + 1e-30, `rmsNorm ${rows}x${width}x${slices} ${dtype}`);
    }
  }
  for (const [heads, headDim, rotaryDim] of [[1, 2, 2], [3, 10, 10], [2, 16, 8], [2, 22, 14], [4, 64, 64], [1, 70, 68]]) {
    const x = randomTensor([5, heads * headDim], 12);
    const options = { numHeads: heads, headDim, rotaryDim, theta: 1e6, positions: new Int32Array([0, 1, 17, 4095, 8191]) };
    assertBits(cuda.rope(x, options), js.rope(x, options), `rope h${heads} d${headDim} r${rotaryDim}`);
    const inPlace = x.clone();
    cuda.rope(inPlace, options, inPlace);
    assertBits(inPlace, js.rope(x, options), `rope in place h${heads} d${headDim}`);
  }
  for (const shape of [[1, 1], [3, 5], [2, 64], [7, 13], [3, 67], [300, 1000]]) {
    const a = randomTensor(shape, 13, 10);
    const b = randomTensor(shape, 14, 10);
    assertBits(cuda.add(a, b), js.add(a, b), `add ${shape}`);
    assertBits(cuda.scale(a, 0.3), js.scale(a, 0.3), `scale ${shape}`);
    const y = js.siluMul(a, b).toF32();
    assertWithin(cuda.siluMul(a, b).toF32(), y, (i) => 16 * U * Math.abs(y[i]) + 1e-30, `siluMul ${shape}`);
  }
  for (const dtype of ['f32', 'bf16', 'f16'] as const) {
    const table = randomTensor([9, 37], 15, 3, dtype);
    const pick = new Int32Array([8, 0, 8, 3]);
    assertBits(cuda.gatherRows(table, pick), js.gatherRows(table, pick), `gatherRows ${dtype}`);
    cuda.resident(table);
    assertBits(cuda.gatherRows(table, pick), js.gatherRows(table, pick), `gatherRows ${dtype}, resident table`);
  }
  const index = new Int32Array([4, 0, 4, 2, 2, 4, 1]);
  const src = randomTensor([7, 21], 16);
  for (const scale of [undefined, new Float32Array([0.5, 1, 2, 0.25, 1, 3, 1])]) {
    const expected = js.scatterAddRows(randomTensor([5, 21], 17), src, index, scale);
    assertBits(cuda.scatterAddRows(randomTensor([5, 21], 17), src, index, scale), expected, 'scatterAddRows');
  }
  for (const [rows, experts, topK] of [[19, 32, 4], [1, 8, 2], [64, 128, 8], [3, 256, 8]]) {
    const logits = randomTensor([rows, experts], 18 + rows, 3);
    for (const renormalize of [true, false]) {
      const g = cuda.routerTopK(logits, { topK, renormalize });
      const e = js.routerTopK(logits, { topK, renormalize });
      assert.deepEqual(g.experts, e.experts, `router ${rows}x${experts} top${topK}: experts`);
      assertWithin(g.weights, e.weights, (i) => 4 * U * Math.abs(e.weights[i]), `router ${rows}x${experts}: weights`);
    }
  }
});

const attentionCases: Array<{ heads: number; kv: number; dim: number; tq: number; tk: number; offset?: number; vdim?: number }> = [
  { heads: 1, kv: 1, dim: 1, tq: 1, tk: 1 },
  { heads: 3, kv: 1, dim: 5, tq: 9, tk: 9 },
  { heads: 4, kv: 2, dim: 12, tq: 70, tk: 70 },
  { heads: 2, kv: 2, dim: 36, tq: 13, tk: 150, offset: 100 },
  { heads: 2, kv: 1, dim: 19, tq: 6, tk: 130 },
  { heads: 8, kv: 4, dim: 64, tq: 40, tk: 140, offset: 90 },
  { heads: 2, kv: 1, dim: 80, tq: 20, tk: 20 },
  { heads: 4, kv: 1, dim: 192, vdim: 128, tq: 33, tk: 33 },
  { heads: 2, kv: 2, dim: 256, tq: 9, tk: 70, offset: 61 },
];

gpuTest('attention agrees with js (GQA, chunks, odd and unequal head dims, 1 row)', ({ js, cuda }) => {
  let seed = 200;
  for (const c of attentionCases) {
    const vdim = c.vdim ?? c.dim;
    const q = randomTensor([c.tq, c.heads * c.dim], seed++, 2);
    const k = randomTensor([c.tk, c.kv * c.dim], seed++, 2);
    const v = randomTensor([c.tk, c.kv * vdim], seed++);
    const options = { numHeads: c.heads, numKvHeads: c.kv, headDim: c.dim, valueHeadDim: vdim, queryOffset: c.offset };
    const expected = js.attention(q, k, v, options).toF32();
    assertWithin(cuda.attention(q, k, v, options).toF32(), expected, () => (64 + 8 * c.tk) * U, `attention ${JSON.stringify(c)}`);
  }
});

gpuTest('attention on a long prompt (3000 tokens) agrees with js', ({ js, cuda }) => {
  const q = randomTensor([3000, 2 * 64], 300, 3);
  const k = randomTensor([3000, 64], 301, 3);
  const v = randomTensor([3000, 64], 302);
  const options = { numHeads: 2, numKvHeads: 1, headDim: 64 };
  assertWithin(cuda.attention(q, k, v, options).toF32(), js.attention(q, k, v, options).toF32(), () => (64 + 8 * 3000) * U, 'attention 3000');
});

gpuTest("a query row's attention is bit-identical whatever other rows or later keys share the call", ({ cuda }) => {
  const q = randomTensor([200, 4 * 20], 400, 2);
  const k = randomTensor([200, 2 * 20], 401, 2);
  const v = randomTensor([200, 2 * 20], 402);
  const options = { numHeads: 4, numKvHeads: 2, headDim: 20 };
  const full = cuda.attention(q, k, v, options);
  for (const r of [0, 1, 7, 8, 9, 31, 32, 33, 130, 199]) {
    assertBits(cuda.attention(q.row(r), k, v, { ...options, queryOffset: r }), full.row(r), `row ${r} alone`);
    assertBits(cuda.attention(q.row(r), k.rows(0, r + 1), v.rows(0, r + 1), options), full.row(r), `row ${r}, prompt of ${r + 1}`);
  }
  for (const [a, b] of [[3, 10], [61, 131], [190, 200]]) {
    assertBits(cuda.attention(q.rows(a, b), k, v, { ...options, queryOffset: a }), full.rows(a, b), `chunk ${a}..${b}`);
  }
});

gpuTest('attention on tensor cores (bf16 inputs) agrees with js within bf16 bounds, and each row is independent of the others', async ({ js }) => {
  const tc = (await createBackend('cuda', { attentionPrecision: 'bf16' })) as CudaBackend;
  try {
    let seed = 250;
    for (const c of [
      { heads: 4, kv: 2, dim: 16, tq: 70, tk: 70 },
      { heads: 2, kv: 2, dim: 64, tq: 13, tk: 150, offset: 137 },
      { heads: 8, kv: 2, dim: 128, tq: 129, tk: 129 },
      { heads: 4, kv: 1, dim: 192, vdim: 128, tq: 33, tk: 100, offset: 67 },
      { heads: 2, kv: 1, dim: 256, tq: 65, tk: 65 },
      { heads: 2, kv: 1, dim: 20, tq: 9, tk: 9 },  // not a multiple of 16: the f32 kernel
    ]) {
      const vdim = c.vdim ?? c.dim;
      const q = randomTensor([c.tq, c.heads * c.dim], seed++, 2);
      const k = randomTensor([c.tk, c.kv * c.dim], seed++, 2);
      const v = randomTensor([c.tk, c.kv * vdim], seed++);
      const options = { numHeads: c.heads, numKvHeads: c.kv, headDim: c.dim, valueHeadDim: vdim, queryOffset: c.offset };
      const expected = js.attention(q, k, v, options).toF32();
      // Rounding q, k, v and p to bf16 (2⁻⁹ each) moves these outputs (|v| ≤ 1) by ≤ 4.6e-3 in the CPU
      // transcription (native-cuda/emulate); the worst case bound is far looser, so this one is empirical.
      const bound = 2 ** -5;
      const full = tc.attention(q, k, v, options);
      assertWithin(full.toF32(), expected, () => bound, `bf16 attention ${JSON.stringify(c)}`);
      for (const r of [0, c.tq >> 1, c.tq - 1]) {
        const offset = (c.offset ?? c.tk - c.tq) + r;
        assertBits(tc.attention(q.row(r), k, v, { ...options, queryOffset: offset }), full.row(r), `bf16 attention row ${r} alone`);
      }
    }
  } finally {
    tc.dispose();
  }
});

gpuTest('device memory: resident weights are counted, a budget overrun is a DeviceMemoryExceededError', async ({  }) => {
  const small = (await createBackend('cuda', { deviceMemoryBytes: 4 << 20 })) as CudaBackend;
  try {
    const w = randomTensor([256, 1024], 500, 1, 'bf16');
    const before = small.deviceMemory.usedBytes;
    small.resident(w);
    assert.equal(small.deviceMemory.usedBytes - before, w.byteLength);
    assert.throws(() => small.resident(randomTensor([1024, 2048], 501)), (e: unknown) => {
      assert.ok(e instanceof DeviceMemoryExceededError, String(e));
      assert.match(e.message, /^cuda backend: device memory budget exceeded: a resident weight needs 8388608 bytes; \d+ of 4194304 bytes in use/);
      return true;
    });
    assert.throws(() => small.matmul(randomTensor([2048, 1024], 502), w), DeviceMemoryExceededError);
  } finally {
    small.dispose();
  }
});

gpuTest('cuda errors: shapes, head widths, bad indices, NaN logits, use after dispose', async ({ cuda }) => {
  const x = randomTensor([2, 4], 700);
  assert.throws(() => cuda.matmul(x, randomTensor([3, 5], 702)), /matmul: x \[2, 4\] and w \[3, 5\]: inner dimensions differ/);
  const wide = randomTensor([2, 300], 701);
  assert.throws(() => cuda.attention(wide, wide, wide, { numHeads: 1, numKvHeads: 1, headDim: 300 }), /cuda backend: attention takes head widths up to 256/);
  assert.throws(() => cuda.gatherRows(x, new Int32Array([0, 2])), /gatherRows: index\[1\] = 2 is outside the 2 rows of x/);
  assert.throws(() => cuda.routerTopK(Tensor.fromF32([0, NaN], [1, 2]), { topK: 1, renormalize: true }), /routerTopK: logits row 0, expert 1 is NaN/);
  await assert.rejects(() => createBackend('cuda', { device: 99 }), /cuda backend: device must be an integer in 0\.\./);
  const gone = await createBackend('cuda');
  gone.dispose();
  assert.throws(() => gone.add(x, x), /cuda backend: used after dispose\(\)/);
});
