// asap bench engines: on the default model, threads host —
//  (a) throughput on a saturating batch of mixed-length requests (all sent at once): the one-thread
//      reference vs sync on 2 ranks (vs asap when available), with each rank's share of busy time in kernels;
//  (b) a mixed workload, a few long prompts among many short ones at a moderate rate: the short requests'
//      p90 TTFT under sync at its best token budget (searched) vs asap.
import { parseArgs } from 'node:util';
import { readModelConfig } from '@asap/actors';
import { SeededRandom, availableBackends, defaultBackend } from '@asap/runtime';
import { percentile } from '../metrics/percentile.ts';
import { defaultModelDir } from '../cli/default-model.ts';
import { oneOf, positiveInteger, positiveNumber } from '../cli/options.ts';
import { type Progress, progressBar } from '../report/progress.ts';
import { formatNumber, formatTable } from '../report/table.ts';
import { ASAP, type EngineSetup, SYNC, describeSetup, engineAvailable } from '../run/engines.ts';
import { type EngineRun, runEngine } from '../run/run-engine.ts';
import { drawLengths, uniformLength } from '../workload/lengths.ts';
import { type WorkloadRequest, toRequests } from '../workload/request.ts';
import { buildWorkload } from '../workload/spec.ts';
import { helpOrDuplicates } from '../cli/args.ts';

const USAGE = `usage: asap bench engines [--ranks N] [--seed S] [--rate R] [--repeat N] [--backend native|wasm|js (default: the fastest here)] [--json]
  (a) tokens/s on a saturating batch of 24 requests of 32–1,024 tokens: reference (one thread), sync and asap
      on N ranks (default 2), with each rank's kernel share of busy time; the engines take turns, --repeat
      rounds (default 2), and each engine's best round is its figure (every round is in the JSON);
  (b) 30 requests at R req/s (default 1), 10% of 2,048–3,072 tokens among 16–64: p90 TTFT of the short ones (<= 64
      tokens) under sync at its best token budget of 128, 256, 512, 1024 and under asap.
  JSON: { tokensPerS: {reference, sync, asap?}, kernelShare: {...}, shortP90TtftMs: {sync, asap?}, syncTokenBudget, ... }`;

const SHORT_MAX = 64;
const BUDGETS = [128, 256, 512, 1024];

interface Throughput {
  readonly configuration: string;
  readonly tokensPerS: number;
  readonly kernelShare: Record<string, number>;
}

async function saturating(setup: EngineSetup, model: string, requests: WorkloadRequest[], vocabSize: number, seed: number): Promise<Throughput> {
  const run = await runEngine(setup, model, requests, { vocabSize, seed });
  const tokens = requests.reduce((n, r) => n + r.promptTokens, 0);
  return {
    configuration: describeSetup(setup),
    tokensPerS: (tokens * 1000) / run.elapsedMs,
    kernelShare: Object.fromEntries(run.usage.map((u) => [u.rank, u.kernelShare])),
  };
}

const shortP90 = (run: EngineRun): number => percentile(run.records.filter((r) => r.promptTokens <= SHORT_MAX).map((r) => r.ttftMs), 0.9);

export async function run(args: string[]): Promise<void> {
  if (helpOrDuplicates(args, USAGE)) return;
  const { values } = parseArgs({
    args,
    options: { ranks: { type: 'string' }, seed: { type: 'string' }, rate: { type: 'string' }, repeat: { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const backend = oneOf('backend', values.backend, availableBackends(), defaultBackend());
  const ranks = positiveInteger('ranks', values.ranks, 2);
  const seed = positiveInteger('seed', values.seed, 1);
  const rate = positiveNumber('rate', values.rate, 1);
  const repeat = positiveInteger('repeat', values.repeat, 2);
  const model = await defaultModelDir();
  const config = await readModelConfig(model);
  const vocab = config.vocabSize;
  const asap = await engineAvailable('asap');
  const progress: Progress = progressBar(values.json);

  // (a) the saturating batch: every request at time 0.
  const lengths = drawLengths(uniformLength(32, 1024), 24, new SeededRandom(seed));
  const batch = toRequests(lengths.map(() => 0), lengths);
  // asap runs each of its variants (the quick search's candidates) and reports its best.
  const asapVariants: EngineSetup[] = asap ? ASAP.candidates(ranks, 'quick').map((knobs) => ({ engine: 'asap', host: 'threads', ranks, knobs, backend })) : [];
  const setups: Array<[string, EngineSetup]> = [
    ['reference', { engine: 'reference', host: 'threads', ranks: 1, knobs: {}, backend }],
    ['sync', { engine: 'sync', host: 'threads', ranks, knobs: SYNC.defaults, backend }],
    ...asapVariants.map((s): [string, EngineSetup] => ['asap', s]),
  ];
  progress.stage('saturating batch', setups.length * repeat);
  const throughput: Record<string, Throughput> = {};
  const rounds: Record<string, number[]> = {};
  // Turns, not blocks: a noisy neighbour slows every engine's round alike.
  for (let round = 0; round < repeat; round++) {
    for (const [name, setup] of setups) {
      const t = await saturating(setup, model, batch, vocab, seed);
      (rounds[name] ??= []).push(t.tokensPerS);
      if (!throughput[name] || t.tokensPerS > throughput[name].tokensPerS) throughput[name] = t;
      progress.tick();
    }
  }

  // (b) long prompts among short ones at a moderate rate; sync's token budget searched for this workload.
  const mixed = await buildWorkload({
    arrivals: 'poisson',
    rate,
    requests: 30,
    lengths: { kind: 'mixed', short: [16, SHORT_MAX], long: [2048, 3072], longShare: 0.1 },
    maxTokens: config.maxPositionEmbeddings,
    seed,
  });
  progress.stage('mixed workload', BUDGETS.length + asapVariants.length);
  const budgets: Array<{ tokenBudget: number; shortP90TtftMs: number }> = [];
  for (const tokenBudget of BUDGETS) {
    const r = await runEngine({ engine: 'sync', host: 'threads', ranks, knobs: { ...SYNC.defaults, tokenBudget }, backend }, model, mixed, { vocabSize: vocab, seed });
    budgets.push({ tokenBudget, shortP90TtftMs: shortP90(r) });
    progress.tick();
  }
  const bestSync = budgets.reduce((b, x) => (x.shortP90TtftMs < b.shortP90TtftMs ? x : b));
  let asapShort: number | undefined;
  let asapConfiguration: string | undefined;
  for (const setup of asapVariants) {
    const p90 = shortP90(await runEngine(setup, model, mixed, { vocabSize: vocab, seed }));
    if (asapShort === undefined || p90 < asapShort) [asapShort, asapConfiguration] = [p90, describeSetup(setup)];
    progress.tick();
  }
  progress.stop();

  const result = {
    ranks,
    tokensPerS: Object.fromEntries(Object.entries(throughput).map(([k, t]) => [k, t.tokensPerS])),
    kernelShare: Object.fromEntries(Object.entries(throughput).map(([k, t]) => [k, t.kernelShare])),
    tokensPerSRounds: rounds,
    configurations: Object.fromEntries(Object.entries(throughput).map(([k, t]) => [k, t.configuration])),
    shortP90TtftMs: { sync: bestSync.shortP90TtftMs, ...(asapShort === undefined ? {} : { asap: asapShort }) },
    syncTokenBudget: bestSync.tokenBudget,
    mixedWorkload: { requests: mixed.length, long: mixed.filter((r) => r.promptTokens > SHORT_MAX).length, rate },
    syncBudgetSearch: budgets,
    ...(asapConfiguration ? { asapMixedConfiguration: asapConfiguration } : {}),
    unavailable: asap ? [] : ['asap'],
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const ref = throughput.reference.tokensPerS;
  const out = (s: string): void => void process.stdout.write(`${s}\n`);
  out(`(a) saturating batch: ${batch.length} requests, ${lengths.reduce((a, b) => a + b, 0)} prompt tokens, all sent at once; best of ${repeat} rounds`);
  out(
    formatTable(
      ['engine', 'tokens/s', 'rounds', '× reference', 'kernel share per rank', 'configuration'],
      Object.entries(throughput).map(([k, t]) => [k, formatNumber(t.tokensPerS, 0), rounds[k].map((x) => x.toFixed(0)).join(' '), `${formatNumber(t.tokensPerS / ref, 2)}×`, Object.values(t.kernelShare).map((s) => `${(s * 100).toFixed(0)}%`).join(' '), t.configuration]),
    ),
  );
  out(`\n(b) mixed: ${mixed.length} requests at ${rate} req/s, ${mixed.filter((r) => r.promptTokens > SHORT_MAX).length} long (2,048–3,072 tokens) among short (16–64)`);
  out(formatTable(['sync token budget', 'short p90 TTFT ms'], budgets.map((b) => [String(b.tokenBudget), formatNumber(b.shortP90TtftMs, 0)])));
  out(`short-request p90 TTFT: sync ${formatNumber(bestSync.shortP90TtftMs, 0)} ms (token budget ${bestSync.tokenBudget})${asapShort === undefined ? '' : `, asap ${formatNumber(asapShort, 0)} ms (${formatNumber(asapShort / bestSync.shortP90TtftMs, 2)}× sync; ${asapConfiguration})`}`);
  if (!asap) out('asap: not available yet (createEngine does not provide it)');
}
