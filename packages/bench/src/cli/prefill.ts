// asap prefill: one prompt through an engine; `--json` prints exactly {"firstToken": n, "logits": [...]} on stdout.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel, referencePrefill, residentModel } from '@asap/actors';
import { type BackendName, availableBackends, createBackend, defaultBackend } from '@asap/runtime';
import { defaultModelDir } from './default-model.ts';

const ENGINES = ['reference'] as const;
const BACKENDS: readonly BackendName[] = availableBackends();
const USAGE = `usage: asap prefill [--model DIR (default: the embedded default model)] --tokens 1,2,3 [--engine ${ENGINES.join('|')}] [--backend ${BACKENDS.join('|')} (default: the fastest here, ${defaultBackend()})] [--json]`;

function parseTokens(text: string): number[] {
  return text.split(',').map((part, i) => {
    const t = part.trim();
    if (!/^-?\d+$/.test(t)) throw new Error(`--tokens: item ${i} ("${part}") is not an integer`);
    return Number(t);
  });
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      tokens: { type: 'string' },
      engine: { type: 'string', default: 'reference' },
      backend: { type: 'string', default: defaultBackend() },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.tokens === undefined) throw new Error(`--tokens is required\n${USAGE}`);
  if (!(ENGINES as readonly string[]).includes(values.engine)) {
    throw new Error(`--engine must be one of ${ENGINES.join(', ')}, got "${values.engine}"`);
  }
  if (!(BACKENDS as readonly string[]).includes(values.backend)) {
    throw new Error(`--backend must be one of ${BACKENDS.join(', ')}, got "${values.backend}"`);
  }
  const tokens = parseTokens(values.tokens);
  const dir = values.model === undefined ? await defaultModelDir() : resolve(process.env.INIT_CWD ?? process.cwd(), values.model);

  const backend = await createBackend(values.backend as BackendName);
  try {
    const loadStart = performance.now();
    const model = residentModel((await loadModel(dir)).model, backend);
    const start = performance.now();
    const result = referencePrefill(backend, model, tokens);
    const ms = performance.now() - start;
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ firstToken: result.firstToken, logits: Array.from(result.logits) })}\n`);
      return;
    }
    const top = Array.from(result.logits.keys())
      .sort((a, b) => result.logits[b] - result.logits[a] || a - b)
      .slice(0, 5)
      .map((id) => `${id} (${result.logits[id].toFixed(4)})`);
    process.stdout.write(
      `model ${dir} (${model.config.arch}), engine ${values.engine}, backend ${backend.name}\n` +
        `prompt ${tokens.length} tokens, load ${(start - loadStart).toFixed(1)} ms, prefill ${ms.toFixed(1)} ms\n` +
        `first token ${result.firstToken}; top logits ${top.join(', ')}\n`,
    );
  } finally {
    backend.dispose();
  }
}
