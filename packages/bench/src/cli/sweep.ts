// asap sweep: the goodput search of every available engine, each at the best configuration the same
// search finds over its own knobs; the table (or --json), and the HTML report with its charts.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readModelConfig } from '@asap/actors';
import { SLO_SCALES } from '../metrics/slo.ts';
import { comparisonTable } from '../report/comparison-table.ts';
import { writeReportHtml } from '../report/html.ts';
import { progressBar } from '../report/progress.ts';
import { runComparisonJob } from '../run/comparison-job.ts';
import { defaultModelDir } from './default-model.ts';
import { ENGINE_RUN_OPTIONS, WORKLOAD_OPTIONS, WORKLOAD_USAGE, oneOf, positiveInteger, positiveNumber, userPath, workloadSpec } from './options.ts';
import { helpOrDuplicates } from './args.ts';

const USAGE = `usage: asap sweep [--host sim|threads] [--ranks N] [--search none|quick|full] [--slo-scale 2|5|10]
                 [--max-rate R] [--steps N] [--check] [--model DIR] [--out DIR] [--json] [workload options]
  Each engine: its configuration search at --rate, then a goodput search (doubling from --rate up to
  --max-rate, then --steps bisections) for the highest rate with >= 90% of requests within sloScale × their
  unloaded TTFT. Sim-host points run in parallel (one per core). --check compares every first token with
  the reference forward. Writes DIR/report.html and DIR/report.json (default DIR: asap-sweep).
${WORKLOAD_USAGE}`;

export async function run(args: string[]): Promise<void> {
  if (helpOrDuplicates(args, USAGE)) return;
  const { values } = parseArgs({
    args,
    options: {
      ...WORKLOAD_OPTIONS,
      ...ENGINE_RUN_OPTIONS,
      search: { type: 'string' },
      'slo-scale': { type: 'string' },
      'max-rate': { type: 'string' },
      steps: { type: 'string' },
      check: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const host = oneOf('host', values.host, ['sim', 'threads'] as const, 'sim');
  const sloScale = Number(oneOf('slo-scale', values['slo-scale'], SLO_SCALES.map(String), '5'));
  const model = values.model === undefined ? await defaultModelDir() : userPath(values.model);
  const config = await readModelConfig(model);
  const workload = workloadSpec(values, config.maxPositionEmbeddings, { rate: 1, requests: 32, workload: 'poisson' });
  const { report, engines } = await runComparisonJob({
    title: `goodput sweep (${host} host)`,
    model,
    modelName: model,
    host,
    ranks: positiveInteger('ranks', values.ranks, 2),
    workload,
    level: oneOf('search', values.search, ['none', 'quick', 'full'], 'full'),
    goodput: { sloScale, start: workload.rate, max: positiveNumber('max-rate', values['max-rate'], workload.rate * 16), steps: positiveInteger('steps', values.steps, 3) },
    checkReference: values.check,
    progress: progressBar(values.json),
  });
  const outDir = userPath(values.out ?? 'asap-sweep');
  await mkdir(outDir, { recursive: true });
  await writeReportHtml(join(outDir, 'report.html'), report, engines);
  await writeFile(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  process.stdout.write(`workload: ${report.workload.description}\n\n${comparisonTable(report)}\n\nreport: ${join(outDir, 'report.html')}\n`);
}
