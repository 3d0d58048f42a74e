// `asap bench prefill`: the reference prefill of the embedded default model, whole prompts and one long
// prompt in chunks, with the time per op (where the hot path goes). `--json` prints one JSON object.
import { KvCache, loadModel, referencePrefill, residentModel } from '@asap/actors';
import { type BackendName, SeededRandom, availableBackends, createBackend } from '@asap/runtime';
import { defaultModelDir } from '../cli/default-model.ts';
import { formatTable } from '../report/table.ts';
import { type OpTotal, ProfiledBackend } from './op-profile.ts';

interface Options {
  readonly backend: BackendName;
  readonly lengths: number[];
  readonly chunks: number;
  readonly chunkTokens: number;
  readonly repeat: number;
  readonly json: boolean;
}

interface Run {
  readonly name: string;
  readonly tokens: number;
  /** Best of the repeats (the least disturbed by other load on the machine), and every repeat. */
  readonly ms: number;
  readonly allMs: number[];
  readonly tokensPerS: number;
  /** Per chunk of the best repeat, for a chunked prompt: the later chunks show what grows with the KV held. */
  readonly chunkMs?: number[];
  readonly ops: OpTotal[];
}

const USAGE = 'usage: asap bench prefill-ops [--backend wasm|js] [--lengths 512,2048] [--chunks 4 --chunk-tokens 1024] [--repeat 3] [--json]';

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`bench prefill: ${name} must be a positive integer, got "${text}"\n${USAGE}`);
  return n;
}

function parse(args: string[]): Options {
  const o = { backend: 'wasm' as BackendName, lengths: [512, 2048], chunks: 4, chunkTokens: 1024, repeat: 3, json: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`bench prefill: ${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--json') o.json = true;
    else if (a === '--backend') {
      const b = value();
      if (!(availableBackends() as string[]).includes(b)) throw new Error(`bench prefill: --backend must be one of ${availableBackends().join(', ')}, got "${b}"`);
      o.backend = b as BackendName;
    } else if (a === '--lengths') o.lengths = value().split(',').map((t) => positive('--lengths', t));
    else if (a === '--chunks') o.chunks = positive('--chunks', value());
    else if (a === '--chunk-tokens') o.chunkTokens = positive('--chunk-tokens', value());
    else if (a === '--repeat') o.repeat = positive('--repeat', value());
    else throw new Error(`bench prefill: unknown option ${a}\n${USAGE}`);
  }
  return o;
}

function prompt(length: number, vocabSize: number, seed: number): number[] {
  const random = new SeededRandom(seed);
  return Array.from({ length }, () => Math.floor(random.next() * vocabSize));
}

export async function run(args: string[]): Promise<void> {
  const o = parse(args);
  const dir = await defaultModelDir();
  const backend = new ProfiledBackend(await createBackend(o.backend));
  try {
    const model = residentModel((await loadModel(dir)).model, backend);
    const vocab = model.config.vocabSize;
    referencePrefill(backend, model, prompt(8, vocab, 0)).kv.release(); // warm-up: compile and touch every weight once
    const runs: Run[] = [];
    const measure = (name: string, tokens: number, once: () => number[]): void => {
      let best: { ms: number; chunkMs: number[]; ops: OpTotal[] } | undefined;
      const allMs: number[] = [];
      for (let r = 0; r < o.repeat; r++) {
        backend.reset();
        const chunkMs = once();
        const ms = chunkMs.reduce((a, b) => a + b, 0);
        allMs.push(ms);
        if (!best || ms < best.ms) best = { ms, chunkMs, ops: backend.report() };
      }
      const { ms, chunkMs, ops } = best!;
      runs.push({ name, tokens, ms, allMs, tokensPerS: (tokens / ms) * 1000, ...(chunkMs.length > 1 ? { chunkMs } : {}), ops });
    };
    for (const length of o.lengths) {
      const tokens = prompt(length, vocab, length);
      measure(`prompt ${length}`, length, () => {
        const start = performance.now();
        const { kv } = referencePrefill(backend, model, tokens);
        const ms = performance.now() - start;
        kv.release();
        return [ms];
      });
    }
    if (o.chunks > 1) {
      const total = o.chunks * o.chunkTokens;
      const tokens = prompt(total, vocab, total);
      // The cache in the backend's memory (attention reads it in place), then in plain shared memory (each
      // attention call copies every filled row in): the difference is the copy, quadratic over the chunks.
      for (const where of ['backend', 'plain'] as const) {
        measure(`${o.chunks} × ${o.chunkTokens} chunks, KV in ${where} memory`, total, () => {
          const kv = KvCache.create(model.config, total, where === 'backend' ? backend : undefined);
          const times: number[] = [];
          for (let c = 0; c < o.chunks; c++) {
            const start = performance.now();
            referencePrefill(backend, model, tokens.slice(c * o.chunkTokens, (c + 1) * o.chunkTokens), { kv });
            times.push(performance.now() - start);
          }
          kv.release();
          return times;
        });
      }
    }
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ backend: backend.name, model: dir, runs })}\n`);
      return;
    }
    process.stdout.write(`reference prefill of the default model (${dir}), ${backend.name} backend, best of ${o.repeat}\n`);
    for (const r of runs) {
      const chunks = r.chunkMs ? `; chunks ${r.chunkMs.map((m) => m.toFixed(0)).join(', ')} ms` : '';
      process.stdout.write(
        `\n${r.name}: ${r.ms.toFixed(1)} ms (runs ${r.allMs.map((m) => m.toFixed(0)).join(', ')}), ${Math.round(r.tokensPerS)} tokens/s${chunks}\n`,
      );
      const opMs = r.ops.reduce((a, b) => a + b.ms, 0);
      const rows = r.ops.map((op) => [op.op, String(op.calls), op.ms.toFixed(1), `${((op.ms / r.ms) * 100).toFixed(1)}%`]);
      rows.push(['(outside ops)', '', (r.ms - opMs).toFixed(1), `${(((r.ms - opMs) / r.ms) * 100).toFixed(1)}%`]);
      process.stdout.write(`${formatTable(['op', 'calls', 'ms', 'share'], rows)}\n`);
    }
  } finally {
    backend.dispose();
  }
}
