// asap demo — the main job: sync vs asap (when available) on the embedded default model, threads host,
// a mixed-length workload drawn from the Azure conversation trace. Prints the comparison, checks every
// request's first token against the reference forward, and writes the HTML report and a Perfetto trace.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readModelConfig } from '@asap/actors';
import { defaultBackend } from '@asap/runtime';
import { comparisonTable } from '../report/comparison-table.ts';
import { writeReportHtml } from '../report/html.ts';
import { progressBar } from '../report/progress.ts';
import { writeTrace } from '../report/trace.ts';
import { runComparisonJob } from '../run/comparison-job.ts';
import { DEFAULT_MODEL, defaultModelDir } from './default-model.ts';
import { oneOf, positiveInteger, positiveNumber, userPath } from './options.ts';
import { helpOrDuplicates } from './args.ts';

const USAGE = `usage: asap demo [--requests N] [--rate R] [--seed S] [--ranks N] [--search none|quick|full] [--out DIR] [--json]
  Compares the engines on the embedded default model (threads host): --requests from the conversation trace
  (default 64) at --rate requests/s (default 3), lengths × 0.25; writes DIR/report.html and DIR/trace.json
  (default DIR: asap-report). --json prints the report as JSON instead of the table.`;

export async function run(args: string[]): Promise<void> {
  if (helpOrDuplicates(args, USAGE)) return;
  const { values } = parseArgs({
    args,
    options: {
      requests: { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      ranks: { type: 'string' },
      search: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got "${values.seed}"\n${USAGE}`);
  const model = await defaultModelDir();
  const config = await readModelConfig(model);
  const outDir = userPath(values.out ?? 'asap-report');
  const json = values.json;
  const out = (line: string): void => {
    if (!json) process.stdout.write(`${line}\n`);
  };
  const { arch, preset } = DEFAULT_MODEL;
  const modelName = `${arch} preset "${preset}" seed ${DEFAULT_MODEL.seed} (${config.numLayers} layers, ${config.numExperts} experts top-${config.topK}, ${config.maxPositionEmbeddings} positions)`;
  const workload = {
    arrivals: 'trace' as const,
    rate: positiveNumber('rate', values.rate, 3),
    requests: positiveInteger('requests', values.requests, 64),
    lengthScale: 0.25,
    maxTokens: config.maxPositionEmbeddings,
    seed,
  };
  const ranks = positiveInteger('ranks', values.ranks, 2);
  out(`asap demo: ${modelName}`);
  const start = performance.now();
  const { report, engines } = await runComparisonJob({
    title: 'asap vs sync on the default model',
    model,
    modelName,
    host: 'threads',
    ranks,
    workload,
    level: oneOf('search', values.search, ['none', 'quick', 'full'], 'quick'),
    traceWindowMs: 3000,
    checkReference: true,
    progress: progressBar(json),
  });
  await mkdir(outDir, { recursive: true });
  const html = join(outDir, 'report.html');
  const trace = join(outDir, 'trace.json');
  await writeReportHtml(html, report, engines);
  await writeTrace(trace, engines.map((e) => ({ name: e.name, spans: e.result.spans, ranks: e.result.summary.ranks.map((r) => r.rank) })));
  await writeFile(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const mismatched = Object.entries(report.reference?.mismatches ?? {}).filter(([, ids]) => ids.length > 0);
  if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
  out(`workload: ${report.workload.description}; ${ranks} ranks, threads host, ${defaultBackend()} backend`);
  out(`SLO yardstick (unloaded sync TTFT): ${report.unloaded.lengths.map((n, i) => `${n} tokens ${report.unloaded.ttftMs[i].toFixed(0)} ms`).join(', ')}\n`);
  out(comparisonTable(report));
  for (const [name, ids] of Object.entries(report.reference?.mismatches ?? {})) {
    out(ids.length === 0 ? `\n${name}: every first token (${report.reference?.requests} requests) equals the reference forward's` : `\n${name}: ${ids.length} first tokens DIFFER from the reference forward (requests ${ids.join(', ')})`);
  }
  out(`\nreport: ${html}\ntrace (Perfetto): ${trace}\n(${((performance.now() - start) / 1000).toFixed(0)} s)`);
  if (mismatched.length > 0) throw new Error(`demo: first tokens differ from the reference for ${mismatched.map(([n]) => n).join(', ')}`);
}
