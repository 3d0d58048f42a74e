// asap fidelity: does the sim host, charging this machine's calibrated profile, predict what the threads
// host measures? Median and p90 TTFT side by side per configuration, with the error.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readModelConfig } from '@asap/actors';
import { defaultBackend } from '@asap/runtime';
import { peakFlopsPerS } from '../calibrate/calibrate.ts';
import { PROFILE_NAMES, resolveProfile } from '../calibrate/local-profile.ts';
import { FIDELITY_CONFIGS } from '../fidelity/configs.ts';
import { type FidelityResult, measureFidelity } from '../fidelity/fidelity.ts';
import { fidelityHtml } from '../report/fidelity.ts';
import { formatNumber, formatTable } from '../report/table.ts';
import { buildWorkload, describeWorkload } from '../workload/spec.ts';
import { CONVERSATION_TRACE } from '../workload/trace.ts';
import { helpOrDuplicates } from './args.ts';
import { defaultModelDir } from './default-model.ts';
import { WORKLOAD_OPTIONS, WORKLOAD_USAGE, positiveInteger, userPath, workloadSpec } from './options.ts';

const USAGE = `usage: asap fidelity [--configs ${FIDELITY_CONFIGS.map((c) => c.name).join(',')}] [--repeat N] [--profile local|FILE] [--html FILE] [--json]
  Runs each configuration on the threads host (--repeat times, default 3) and once on the sim host charging
  the profile (default local: run \`asap calibrate\` first), the same requests (default: 24 conversation-trace
  requests at 2 requests/s), and prints measured vs predicted median and p90 TTFT with the error.
  Profiles: ${PROFILE_NAMES.join(', ')} or a JSON file.
${WORKLOAD_USAGE}`;

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${formatNumber(100 * x, 1)}%`;

export function fidelityTable(results: readonly FidelityResult[]): string {
  const rows = results.flatMap((r) =>
    (['p50', 'p90'] as const).map((q) => [
      r.config,
      q,
      formatNumber(r.measured[q], 1),
      `${formatNumber(Math.min(...r.measuredRuns.map((m) => m[q])), 1)}–${formatNumber(Math.max(...r.measuredRuns.map((m) => m[q])), 1)}`,
      formatNumber(r.predicted[q], 1),
      pct(r.error[q]),
    ]),
  );
  return formatTable(['configuration', 'TTFT', 'measured ms (median of runs)', 'runs min–max', 'predicted ms (sim)', 'error'], rows);
}

export async function run(args: string[]): Promise<void> {
  if (helpOrDuplicates(args, USAGE)) return;
  const { values } = parseArgs({
    args,
    options: { ...WORKLOAD_OPTIONS, configs: { type: 'string' }, repeat: { type: 'string' }, profile: { type: 'string' }, html: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const names = values.configs?.split(',') ?? FIDELITY_CONFIGS.slice(0, 2).map((c) => c.name);
  const configs = names.map((n) => {
    const c = FIDELITY_CONFIGS.find((f) => f.name === n);
    if (!c) throw new Error(`--configs: unknown configuration "${n}" (configurations: ${FIDELITY_CONFIGS.map((f) => f.name).join(', ')})`);
    return c;
  });
  const model = await defaultModelDir();
  const config = await readModelConfig(model);
  const spec = workloadSpec(values, config.maxPositionEmbeddings, { rate: 2, requests: 24, workload: CONVERSATION_TRACE });
  const requests = await buildWorkload(spec);
  const profile = values.profile ?? 'local';
  // The machine is shared: how fast a matmul runs now against when the profile was calibrated says whether
  // the load changed in between (the figures then drift by about that factor).
  const calibratedFlops = resolveProfile(profile).measured?.peakFlopsPerS;
  const speedNow = typeof calibratedFlops === 'number' ? (await peakFlopsPerS(defaultBackend(), true)) / calibratedFlops : undefined;
  const repeats = positiveInteger('repeat', values.repeat, 3);
  const log = (line: string): void => {
    if (!values.json) process.stderr.write(`${line}\n`);
  };
  const results = await measureFidelity(configs, requests, {
    model,
    vocabSize: config.vocabSize,
    seed: spec.seed,
    profile,
    repeats,
    onRun: (name, host, f) => log(`${name} on ${host}: TTFT p50 ${f.p50.toFixed(1)} ms, p90 ${f.p90.toFixed(1)} ms`),
  });
  const workload = describeWorkload(spec);
  const drift = speedNow === undefined ? '' : `matmul speed now ${formatNumber(speedNow, 2)}× that at calibration`;
  if (values.html) await writeFile(userPath(values.html), fidelityHtml({ workload, profile, repeats, results, drift }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ workload: { ...spec, description: workload }, profile, repeats, speedNowVsCalibration: speedNow ?? null, results })}\n`);
    return;
  }
  process.stdout.write(`workload: ${workload}; sim profile: ${profile}${drift && ` (${drift})`}; threads runs per configuration: ${repeats}\n\n${fidelityTable(results)}\n`);
}
