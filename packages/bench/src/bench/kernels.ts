// `asap bench kernels`: matmul GFLOP/s and attention tokens/s per backend (tinybench, median latency),
// with single-threaded NumPy/OpenBLAS matmul as a reference. `--json` prints one JSON object.
import { type Backend, NativeBackend, Tensor, WasmBackend, availableBackends, createBackend } from '@asap/runtime';
import { Bench } from 'tinybench';
import { formatNumber, formatTable } from '../report/table.ts';
import { type MatmulShape, openBlasMatmul } from './openblas.ts';
import { helpOrDuplicates } from '../cli/args.ts';
import { cudaKernels, printCudaKernels } from './kernels-cuda.ts';

const MATMUL_SHAPES: readonly MatmulShape[] = [
  // One routed expert of the default model at 512 tokens (≈ 64 rows each): gate/up, then down.
  { m: 64, k: 256, n: 128 },
  { m: 64, k: 128, n: 256 },
  { m: 64, k: 512, n: 1408 },
  { m: 256, k: 1024, n: 2816 },
  { m: 512, k: 2048, n: 1408 },
  { m: 1024, k: 1024, n: 1024 },
];
/** The naive js loop costs the same per row: it is timed on the first rows only, to keep the bench short. */
const JS_MATMUL_ROWS = 32;
const ATTENTION_TOKENS = [512, 4096];
/** A small GQA layer (Qwen-like head shape). */
const ATTENTION = { numHeads: 8, numKvHeads: 2, headDim: 64 } as const;

interface MatmulRow {
  backend: string;
  m: number;
  k: number;
  n: number;
  gflops: number | null;
  /** From the fastest run: what the kernel does when the (shared, noisy) machine leaves it alone. */
  gflopsBest: number | null;
  dtype: string;
  note?: string;
}

interface AttentionRow {
  backend: string;
  tokens: number;
  tokensPerSecond: number | null;
  peakBytes: number | null;
  note?: string;
}

interface Options {
  json: boolean;
  full: boolean;
  quick: boolean;
  /** 'cuda': the GPU kernels only (an error where there is no GPU); all the CPU backends (and cuda where present) when absent. */
  backend?: 'cuda';
}

const USAGE = 'usage: asap bench kernels [--json] [--full (js attention at 4096 tokens)] [--quick] [--backend cuda]';

function parse(args: string[]): Options {
  const known = new Set(['--json', '--full', '--quick']);
  let backend: 'cuda' | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--backend') {
      if (args[i + 1] !== 'cuda') throw new Error(`bench kernels: --backend takes cuda (the CPU backends run without it), got ${args[i + 1] ?? 'nothing'}\n${USAGE}`);
      backend = 'cuda';
      i++;
    } else if (!known.has(a)) {
      throw new Error(`bench kernels: unknown option ${a}\n${USAGE}`);
    }
  }
  return { json: args.includes('--json'), full: args.includes('--full'), quick: args.includes('--quick'), backend };
}

/** A seeded tensor of values in [-1, 1). */
export function random(shape: number[], seed: number, dtype: 'f32' | 'bf16' = 'f32'): Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    values[i] = s / 2 ** 31 - 1;
  }
  return Tensor.fromF32(values, shape, dtype);
}

/** Median and fastest latency of `fn` in ms. */
export async function latencyMs(fn: () => void, options: Pick<Options, 'quick'>, slow: boolean): Promise<{ median: number; best: number }> {
  const bench = slow
    ? new Bench({ time: 0, iterations: options.quick ? 1 : 3, warmup: false })
    : new Bench({ time: options.quick ? 100 : 1000, iterations: options.quick ? 2 : 5, warmupIterations: 2, warmupTime: 0 });
  bench.add('kernel', fn);
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state === 'errored') throw result.error;
  if (result.state !== 'completed') throw new Error(`bench kernels: task ended ${result.state}`);
  return { median: result.latency.p50, best: result.latency.min };
}

/** The native backend on one thread, or undefined where this build has none. */
async function nativeBackend(): Promise<NativeBackend | undefined> {
  return availableBackends().includes('native') ? ((await createBackend('native', { threads: 1 })) as NativeBackend) : undefined;
}

async function matmulRows(options: Options): Promise<MatmulRow[]> {
  const rows: MatmulRow[] = [];
  const js = await createBackend('js');
  const wasm = (await createBackend('wasm', { memoryBytes: 512 * 1024 * 1024 })) as WasmBackend;
  const plain = (await createBackend('wasm', { relaxedSimd: false, memoryBytes: 512 * 1024 * 1024 })) as WasmBackend;
  const native = await nativeBackend();
  const blas = openBlasMatmul(MATMUL_SHAPES);
  let seed = 1;
  for (const [i, { m, k, n }] of MATMUL_SHAPES.entries()) {
    const flops = 2 * m * k * n;
    const x = random([m, k], seed++);
    const w = random([n, k], seed++);
    const jsRows = Math.min(m, JS_MATMUL_ROWS);
    const jsMs = await latencyMs(() => js.matmul(x.rows(0, jsRows), w), options, true);
    const jsFlops = 2 * jsRows * k * n;
    rows.push({
      backend: 'js', m, k, n, dtype: 'f32',
      gflops: jsFlops / (jsMs.median * 1e6), gflopsBest: jsFlops / (jsMs.best * 1e6), note: `first ${jsRows} rows`,
    });
    for (const [backend, be] of [['wasm', wasm], ['wasm-plain', plain]] as const) {
      for (const dtype of backend === 'wasm' ? (['f32', 'bf16'] as const) : (['f32'] as const)) {
        const xr = be.resident(x);
        const wr = be.resident(dtype === 'f32' ? w : w.to('bf16'));
        const out = be.arena.alloc([m, n]);
        const ms = await latencyMs(() => be.matmul(xr, wr, undefined, out), options, false);
        rows.push({
          backend, m, k, n, dtype,
          gflops: flops / (ms.median * 1e6), gflopsBest: flops / (ms.best * 1e6), note: `${be.simd} SIMD, resident`,
        });
        for (const t of [xr, wr, out]) be.release(t);
      }
    }
    if (native) {
      for (const dtype of ['f32', 'bf16'] as const) {
        const wn = dtype === 'f32' ? w : w.to('bf16');
        const out = Tensor.zeros([m, n]);
        const ms = await latencyMs(() => native.matmul(x, wn, undefined, out), options, false);
        rows.push({
          backend: 'native', m, k, n, dtype,
          gflops: flops / (ms.median * 1e6), gflopsBest: flops / (ms.best * 1e6), note: `${native.isa}, ${native.threads} thread, in place`,
        });
      }
    }
    rows.push({ backend: 'openblas', m, k, n, dtype: 'f32', gflops: blas.gflops[i], gflopsBest: blas.best[i], note: blas.note });
  }
  for (const be of [js, wasm, plain, native]) be?.dispose();
  return rows;
}

async function attentionRow(backend: Backend, tokens: number, options: Options, slow: boolean): Promise<AttentionRow> {
  const { numHeads, numKvHeads, headDim } = ATTENTION;
  let q = random([tokens, numHeads * headDim], 11);
  let k = random([tokens, numKvHeads * headDim], 12);
  let v = random([tokens, numKvHeads * headDim], 13);
  const io = q.byteLength + k.byteLength + v.byteLength + q.byteLength;
  if (backend instanceof WasmBackend) {
    [q, k, v] = [q, k, v].map((t) => backend.resident(t));
    const out = backend.arena.alloc(q.shape);
    const ms = (await latencyMs(() => backend.attention(q, k, v, ATTENTION, out), options, slow)).median;
    // Everything the call touches in the backend's memory: q, k, v, out and the kernel's scratch.
    return { backend: backend.name, tokens, tokensPerSecond: tokens / (ms / 1000), peakBytes: backend.arena.peakUsed, note: `${backend.simd} SIMD` };
  }
  if (backend instanceof NativeBackend) {
    const out = Tensor.zeros(q.shape);
    const ms = (await latencyMs(() => backend.attention(q, k, v, ATTENTION, out), options, slow)).median;
    // q, k, v, out plus the kernel's scratch: the keys of one kv head, packed.
    const scratch = Math.ceil(tokens / 64) * 64 * headDim * 4;
    return { backend: backend.name, tokens, tokensPerSecond: tokens / (ms / 1000), peakBytes: io + scratch, note: `${backend.isa}, ${backend.threads} thread` };
  }
  const ms = (await latencyMs(() => backend.attention(q, k, v, ATTENTION), options, slow)).median;
  // q, k, v, out plus the js kernel's own buffers: one score row and one accumulator row.
  return { backend: backend.name, tokens, tokensPerSecond: tokens / (ms / 1000), peakBytes: io + (tokens + headDim) * 4 };
}

async function attentionRows(options: Options): Promise<AttentionRow[]> {
  const rows: AttentionRow[] = [];
  for (const tokens of ATTENTION_TOKENS) {
    const wasm = await createBackend('wasm', { memoryBytes: 512 * 1024 * 1024 });
    rows.push(await attentionRow(wasm, tokens, options, tokens > 1024));
    wasm.dispose();
    const native = await nativeBackend();
    if (native) {
      rows.push(await attentionRow(native, tokens, options, tokens > 1024));
      native.dispose();
    }
    if (tokens <= 1024 || options.full) rows.push(await attentionRow(await createBackend('js'), tokens, options, true));
    else rows.push({ backend: 'js', tokens, tokensPerSecond: null, peakBytes: null, note: 'skipped: tens of seconds (run with --full)' });
  }
  return rows;
}

function printTables(matmul: MatmulRow[], attention: AttentionRow[]): void {
  const mm = matmul.map((r) => [
    r.backend, r.dtype, String(r.m), String(r.k), String(r.n), formatNumber(r.gflops), formatNumber(r.gflopsBest), r.note ?? '',
  ]);
  process.stdout.write(`matmul Y = X·Wᵀ, one thread (GFLOP/s from the median and the fastest run)\n`);
  process.stdout.write(`${formatTable(['backend', 'W', 'M', 'K', 'N', 'GFLOP/s', 'best', 'note'], mm)}\n\n`);
  const at = attention.map((r) => [
    r.backend,
    String(r.tokens),
    formatNumber(r.tokensPerSecond, 0),
    r.peakBytes === null ? 'n/a' : `${(r.peakBytes / 2 ** 20).toFixed(1)}`,
    r.note ?? '',
  ]);
  const { numHeads, numKvHeads, headDim } = ATTENTION;
  process.stdout.write(`causal attention, ${numHeads} heads / ${numKvHeads} kv heads × ${headDim}, one thread\n`);
  process.stdout.write(`${formatTable(['backend', 'tokens', 'tokens/s', 'peak MiB', 'note'], at)}\n\n`);
  const target = (backend: string) => matmul.find((r) => r.backend === backend && r.m === 256 && r.dtype === 'f32');
  const [wasm, js, blas, native] = [target('wasm'), target('js'), target('openblas'), target('native')];
  if (wasm?.gflops && js?.gflops) {
    const ofBlas = blas?.gflops ? `${((100 * wasm.gflops) / blas.gflops).toFixed(0)}% of openblas` : 'openblas n/a';
    process.stdout.write(
      `(256, 1024, 2816): wasm ${wasm.gflops.toFixed(1)} GFLOP/s (best ${formatNumber(wasm.gflopsBest)}) = ` +
        `${(wasm.gflops / js.gflops).toFixed(0)}× naive js, ${ofBlas}\n`,
    );
  }
  const nativeBf16 = matmul.find((r) => r.backend === 'native' && r.m === 256 && r.dtype === 'bf16');
  if (native?.gflops && wasm?.gflops) {
    const ofBlas = blas?.gflops ? `${((100 * native.gflops) / blas.gflops).toFixed(0)}% of openblas` : 'openblas n/a';
    const bf16 = nativeBf16?.gflops ? `, bf16 weights ${((100 * nativeBf16.gflops) / native.gflops).toFixed(0)}% of f32` : '';
    process.stdout.write(
      `(256, 1024, 2816): native ${native.gflops.toFixed(1)} GFLOP/s = ${(native.gflops / wasm.gflops).toFixed(1)}× wasm, ${ofBlas}${bf16}\n`,
    );
  }
  for (const tokens of ATTENTION_TOKENS) {
    const [n, w] = ['native', 'wasm'].map((b) => attention.find((r) => r.backend === b && r.tokens === tokens)?.tokensPerSecond);
    if (n && w) process.stdout.write(`attention ${tokens} tokens: native ${(n / w).toFixed(1)}× wasm\n`);
  }
}

export async function run(args: string[]): Promise<void> {
  if (helpOrDuplicates(args, USAGE)) return;
  const options = parse(args);
  if (options.backend === 'cuda') {
    const cuda = await cudaKernels(options.quick);
    if ('unavailable' in cuda) throw new Error(`bench kernels: cuda backend unavailable: ${cuda.unavailable}`);
    if (options.json) process.stdout.write(`${JSON.stringify({ cuda })}\n`);
    else printCudaKernels(cuda);
    return;
  }
  const matmul = await matmulRows(options);
  const attention = await attentionRows(options);
  const cuda = await cudaKernels(options.quick);
  if (options.json) process.stdout.write(`${JSON.stringify({ matmul, attention, cuda })}\n`);
  else {
    printTables(matmul, attention);
    printCudaKernels(cuda);
  }
}
