// asap run: one engine over one workload; the table, or with --json one JSON document (under the sim host
// the same seed gives the same bytes).
import { parseArgs } from 'node:util';
import { readModelConfig } from '@asap/actors';
import { summarize } from '../metrics/summary.ts';
import { comparisonTable } from '../report/comparison-table.ts';
import { comparisonReport } from '../report/comparison.ts';
import { progressBar } from '../report/progress.ts';
import { writeTrace } from '../report/trace.ts';
import { type ComparedName, type EngineSetup, type Knobs, describeSetup, engineAvailable, family, withKnobs } from '../run/engines.ts';
import { runEngine } from '../run/run-engine.ts';
import { measureUnloaded, unloadedLengths } from '../run/unloaded.ts';
import { buildWorkload, describeWorkload } from '../workload/spec.ts';
import { defaultModelDir } from './default-model.ts';
import { ENGINE_RUN_OPTIONS, WORKLOAD_OPTIONS, WORKLOAD_USAGE, oneOf, positiveInteger, userPath, workloadSpec } from './options.ts';
import { helpOrDuplicates } from './args.ts';

const USAGE = `usage: asap run --engine sync|asap --host threads|sim --workload poisson|bursty|FILE.csv --rate R --seed S
               [--ranks N] [--knobs k=v,...] [--model DIR] [--trace FILE] [--json]
  One engine at its default configuration (--knobs overrides it, e.g. tokenBudget=256,twoBatchOverlap=false)
  on the embedded default model unless --model; prints TTFT percentiles, SLO attainment, throughput and
  per-rank time. --trace FILE writes the first 3 s of rank spans as a Perfetto (Chrome trace-event) file.
${WORKLOAD_USAGE}`;

/** `k=v,k=v`: numbers and booleans as such, anything else a string. */
export function parseKnobs(text: string | undefined): Knobs {
  if (text === undefined) return {};
  return Object.fromEntries(
    text.split(',').map((pair) => {
      const m = /^([A-Za-z][\w]*)=(.+)$/.exec(pair.trim());
      if (!m) throw new Error(`--knobs: "${pair}" is not key=value`);
      const v = m[2];
      return [m[1], v === 'true' ? true : v === 'false' ? false : Number.isFinite(Number(v)) ? Number(v) : v];
    }),
  );
}

export async function run(args: string[]): Promise<void> {
  if (helpOrDuplicates(args, USAGE)) return;
  const { values } = parseArgs({
    args,
    options: {
      ...WORKLOAD_OPTIONS,
      ...ENGINE_RUN_OPTIONS,
      engine: { type: 'string' },
      knobs: { type: 'string' },
      trace: { type: 'string' },
    },
  });
  const name = oneOf<ComparedName>('engine', values.engine, ['sync', 'asap'], 'sync');
  const host = oneOf('host', values.host, ['threads', 'sim'] as const, 'threads');
  if (!(await engineAvailable(name))) throw new Error(`the ${name} engine is not available yet (createEngine does not provide it)`);
  const model = values.model === undefined ? await defaultModelDir() : userPath(values.model);
  const config = await readModelConfig(model);
  const spec = workloadSpec(values, config.maxPositionEmbeddings, { rate: 2, requests: 32, workload: 'poisson' });
  const ranks = positiveInteger('ranks', values.ranks, 2);
  const setup: EngineSetup = { engine: name, host, ranks, knobs: withKnobs(family(name), parseKnobs(values.knobs)) };
  const requests = await buildWorkload(spec);
  const progress = progressBar(values.json);
  progress.stage('unloaded TTFT (sync)', 1);
  const curve = await measureUnloaded(model, host, ranks, unloadedLengths(Math.max(...requests.map((r) => r.promptTokens))), config.vocabSize);
  progress.stage(`${name} on ${host}`, requests.length);
  const result = await runEngine(setup, model, requests, { vocabSize: config.vocabSize, seed: spec.seed, traceWindowMs: values.trace ? 3000 : 0, onDone: () => progress.tick() });
  progress.stop();
  const summary = summarize(setup, result.records, result.elapsedMs, result.usage, curve);
  if (values.trace) await writeTrace(userPath(values.trace), [{ name, spans: result.spans, ranks: result.usage.map((u) => u.rank) }]);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ configuration: describeSetup(setup), setup, workload: { ...spec, description: describeWorkload(spec) }, unloaded: curve, summary, records: result.records })}\n`);
    return;
  }
  const report = comparisonReport({
    title: describeSetup(setup),
    model,
    host,
    ranks,
    workload: spec,
    unloaded: curve,
    unavailable: [],
    ablation: [],
    engines: [{ name, best: setup, candidates: [{ knobs: setup.knobs, score: 0, summary }], result: { summary, records: result.records, spans: [] } }],
  });
  process.stdout.write(`${describeSetup(setup)}\nworkload: ${report.workload.description}\n\n${comparisonTable(report)}\n`);
}
