// `asap bench prefill`: the reference forward's prefill tokens/s on the default model (or --model DIR), per
// available backend, one thread, for 128, 512 and 2,048 tokens (median of --runs after a warm-up).
// `--json` prints {"prefill": [{"backend", "tokens", "tokensPerS", ...}]}. The prompt is the one the
// transformers peer script uses, [(i·37 + 11) mod vocab], so the figures compare.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel, referencePrefill, residentModel } from '@asap/actors';
import { type BackendName, availableBackends, createBackend } from '@asap/runtime';
import { defaultModelDir } from '../cli/default-model.ts';
import { formatNumber, formatTable } from '../report/table.ts';

interface PrefillRow {
  backend: BackendName;
  tokens: number;
  /** From the median run. */
  tokensPerS: number;
  /** From the fastest run: what the forward does when the (shared, noisy) machine leaves it alone. */
  tokensPerSBest: number;
  /** Per second of this process's CPU time (median run): steadier than wall time when other work shares the cores. */
  tokensPerCpuS: number;
  runs: number;
}

const USAGE =
  'usage: asap bench prefill [--json] [--tokens 128,512,2048] [--backends native,wasm] [--runs 3] [--model DIR]\n' +
  '(js, the scalar oracle, runs only when named in --backends: it takes minutes at 2,048 tokens)';

function list(text: string, what: string): string[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new Error(`--${what}: empty list\n${USAGE}`);
  return items;
}

function positiveInt(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error(`--${what}: "${text}" is not a positive integer\n${USAGE}`);
  return Number(text);
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      tokens: { type: 'string', default: '128,512,2048' },
      backends: { type: 'string' },
      runs: { type: 'string', default: '3' },
      model: { type: 'string' },
    },
  });
  const lengths = list(values.tokens, 'tokens').map((t) => positiveInt(t, 'tokens'));
  const runs = positiveInt(values.runs, 'runs');
  const available = availableBackends();
  const backends = (values.backends === undefined ? available.filter((b) => b !== 'js') : list(values.backends, 'backends')) as BackendName[];
  for (const b of backends) {
    if (!available.includes(b)) throw new Error(`--backends: "${b}" is not available here (available: ${available.join(', ')})\n${USAGE}`);
  }
  const dir = values.model === undefined ? await defaultModelDir() : resolve(process.env.INIT_CWD ?? process.cwd(), values.model);
  const { model: loaded } = await loadModel(dir);
  const vocab = loaded.config.vocabSize;

  const rows: PrefillRow[] = [];
  for (const name of backends) {
    const backend = await createBackend(name, { threads: 1 });
    try {
      const model = residentModel(loaded, backend);
      for (const tokens of lengths) {
        const prompt = Array.from({ length: tokens }, (_, i) => (i * 37 + 11) % vocab);
        referencePrefill(backend, model, prompt);
        const ms: number[] = [];
        const cpuMs: number[] = [];
        for (let r = 0; r < runs; r++) {
          const start = performance.now();
          const cpu = process.cpuUsage();
          referencePrefill(backend, model, prompt);
          const used = process.cpuUsage(cpu);
          ms.push(performance.now() - start);
          cpuMs.push((used.user + used.system) / 1000);
        }
        const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        rows.push({
          backend: name, tokens,
          tokensPerS: (tokens * 1000) / median(ms), tokensPerSBest: (tokens * 1000) / Math.min(...ms), tokensPerCpuS: (tokens * 1000) / median(cpuMs),
          runs,
        });
      }
    } finally {
      backend.dispose();
    }
  }

  if (values.json) {
    process.stdout.write(`${JSON.stringify({ prefill: rows })}\n`);
    return;
  }
  process.stdout.write(`reference forward prefill, ${dir} (${loaded.config.arch}), one thread, median of ${runs} after a warm-up\n`);
  const table = rows.map((r) => [
    r.backend, String(r.tokens), formatNumber(r.tokensPerS, 0), formatNumber(r.tokensPerSBest, 0), formatNumber(r.tokensPerCpuS, 0),
  ]);
  process.stdout.write(`${formatTable(['backend', 'tokens', 'tokens/s', 'best', 'per CPU-s'], table)}\n`);
}
