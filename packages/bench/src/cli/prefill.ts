// asap prefill: one prompt through an engine; `--json` prints exactly {"firstToken": n, "logits": [...]} on stdout.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ENGINE_NAMES, type EngineName, type EngineOptions, type RankSpan, createEngine } from '@asap/actors';
import { availableBackends, type BackendName, defaultBackend } from '@asap/runtime';
import { writeTrace } from '../report/trace.ts';
import { defaultModelDir } from './default-model.ts';
import { helpOrDuplicates } from './args.ts';

const BACKENDS: readonly BackendName[] = availableBackends();
const USAGE = [
  'usage: asap prefill [--model DIR (default: the embedded default model)] --tokens 1,2,3',
  `         [--engine ${ENGINE_NAMES.join('|')}] [--backend ${BACKENDS.join('|')} (default: the fastest here, ${defaultBackend()})] [--host threads|sim]`,
  '         [--ranks N] [--attention-ranks A --expert-ranks E] [--placement disaggregated|colocated]',
  '         [--token-budget N] [--trace FILE] [--json]',
].join('\n');

function parseTokens(text: string): number[] {
  return text.split(',').map((part, i) => {
    const t = part.trim();
    if (!/^-?\d+$/.test(t)) throw new Error(`--tokens: item ${i} ("${part}") is not an integer`);
    return Number(t);
  });
}

function count(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`--${flag} must be a positive integer, got "${value}"\n${USAGE}`);
  return Number(value);
}

function engineOptions(values: Record<string, string | boolean | undefined>, model: string): EngineOptions {
  const engine = values.engine as string;
  if (!(ENGINE_NAMES as readonly string[]).includes(engine)) throw new Error(`--engine must be one of ${ENGINE_NAMES.join(', ')}, got "${engine}"`);
  const backend = values.backend as string;
  if (!(BACKENDS as readonly string[]).includes(backend)) throw new Error(`--backend must be one of ${BACKENDS.join(', ')}, got "${backend}"`);
  const host = values.host as string;
  if (host !== 'threads' && host !== 'sim') throw new Error(`--host must be threads or sim, got "${host}"`);
  const placement = values.placement as string | undefined;
  if (placement !== undefined && placement !== 'disaggregated' && placement !== 'colocated') {
    throw new Error(`--placement must be disaggregated or colocated, got "${placement}"`);
  }
  if (placement !== undefined && engine !== 'asap') throw new Error('--placement applies to --engine asap only');
  const tokenBudget = count('token-budget', values['token-budget'] as string | undefined);
  return {
    model,
    engine: engine as EngineName,
    backend: backend as BackendName,
    host,
    ranks: count('ranks', values.ranks as string | undefined),
    attentionRanks: count('attention-ranks', values['attention-ranks'] as string | undefined),
    expertRanks: count('expert-ranks', values['expert-ranks'] as string | undefined),
    sync: tokenBudget === undefined ? undefined : { tokenBudget },
    asap: placement === undefined ? undefined : { placement: placement as 'disaggregated' | 'colocated' },
  };
}

export async function run(args: string[]): Promise<void> {
  if (helpOrDuplicates(args, USAGE)) return;
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      tokens: { type: 'string' },
      engine: { type: 'string', default: 'reference' },
      backend: { type: 'string', default: defaultBackend() },
      host: { type: 'string', default: 'threads' },
      ranks: { type: 'string' },
      'attention-ranks': { type: 'string' },
      'expert-ranks': { type: 'string' },
      placement: { type: 'string' },
      'token-budget': { type: 'string' },
      trace: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.tokens === undefined) throw new Error(`--tokens is required\n${USAGE}`);
  const tokens = parseTokens(values.tokens);
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const dir = values.model === undefined ? await defaultModelDir() : resolve(cwd, values.model);
  const options = engineOptions(values, dir);

  const loadStart = performance.now();
  const engine = await createEngine(options);
  const spans: RankSpan[] = [];
  const recording = values.trace ? engine.events$.subscribe((s) => spans.push(s)) : undefined;
  try {
    const start = performance.now();
    const result = await engine.prefill({ tokens, logits: true });
    const ms = performance.now() - start;
    const logits = result.logits as Float32Array;
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ firstToken: result.firstToken, logits: Array.from(logits) })}\n`);
    } else {
      const top = Array.from(logits.keys())
        .sort((a, b) => logits[b] - logits[a] || a - b)
        .slice(0, 5)
        .map((id) => `${id} (${logits[id].toFixed(4)})`);
      process.stdout.write(
        `model ${dir}, engine ${engine.name} on ${engine.host} (${engine.ranks.join(', ')}), backend ${options.backend}\n` +
          `prompt ${tokens.length} tokens, start ${(start - loadStart).toFixed(1)} ms, prefill ${ms.toFixed(1)} ms (TTFT ${result.ttftMs.toFixed(2)} ms on the host's clock)\n` +
          `first token ${result.firstToken}; top logits ${top.join(', ')}\n`,
      );
    }
  } finally {
    await engine.close();
    recording?.unsubscribe();
  }
  if (values.trace) {
    const path = resolve(cwd, values.trace);
    await writeTrace(path, [{ name: `asap prefill (${options.engine})`, spans, ranks: engine.ranks }]);
    if (!values.json) process.stdout.write(`trace: ${spans.length} spans written to ${path} (open in Perfetto)\n`);
  }
}
