// asap sim: a modelled cluster (a hardware profile, hundreds of ranks, a large model's shapes, numerics
// off) under the sim host — one engine over one workload, or with --sweep each engine's goodput at its
// best configuration, their ratio and the ideal bound.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MODEL_SHAPES, modelShapeDir, readModelConfig } from '@asap/actors';
import { PROFILE_NAMES } from '../calibrate/local-profile.ts';
import { type LengthGroupAttainment, type UnloadedTtft, SLO_SCALES, attainmentByLength, unloadedTtftAt } from '../metrics/slo.ts';
import { loadFigures, summarize } from '../metrics/summary.ts';
import { type RoleUsage, roleUsage } from '../metrics/ranks.ts';
import { comparisonTable } from '../report/comparison-table.ts';
import { writeReportHtml } from '../report/html.ts';
import { progressBar } from '../report/progress.ts';
import type { SimSettings } from '../run/cluster.ts';
import { clusterFamily } from '../run/cluster-families.ts';
import { runComparisonJob } from '../run/comparison-job.ts';
import { ASAP, type ComparedName, type EngineSetup, SYNC, describeSetup, family, withKnobs } from '../run/engines.ts';
import { runEngine } from '../run/run-engine.ts';
import { readSavedYardstick } from '../run/saved-yardstick.ts';
import { measureUnloaded, unloadedLengths } from '../run/unloaded.ts';
import { buildWorkload, describeWorkload } from '../workload/spec.ts';
import { helpOrDuplicates } from './args.ts';
import { parseKnobs } from './run.ts';
import { WORKLOAD_OPTIONS, WORKLOAD_USAGE, oneOf, positiveInteger, positiveNumber, userPath, workloadSpec } from './options.ts';
import { type SimSweepResult, simSweepResult } from '../report/sim-sweep.ts';

const USAGE = `usage: asap sim --profile ${PROFILE_NAMES.join('|')}|FILE.json --model ${MODEL_SHAPES.join('|')}|DIR
                --workload FILE.csv|poisson|bursty --engine sync|asap [--ranks 384] [--knobs k=v,...]
                [--skew 1] [--eplb on|off] [--yardstick sync|none|RUN.json] [--slo-scale S] [--json]
       asap sim ... --sweep [--slo-scale 2|5|10] [--max-rate R] [--steps N] [--finalists 2] [--skip-ablation]
                [--out DIR] [--json]
  The cluster under the sim host, numerics off (shapes only; routing from a Zipf popularity model, --skew,
  default 1; with --eplb on, the default, both engines place experts by the counts a long history of it
  gives, with redundant copies of the hot ones, as production EPLB does). One engine at its cluster default (--knobs overrides it), its SLO attainment against the
  unloaded sync engine's TTFT (--yardstick none: no attainment, no sync runs; RUN.json: the curve an earlier
  --json run on the same profile, model and ranks measured; --slo-scale S: every request carries its TTFT
  deadline, S × that curve, as the sweep's do: asap schedules by it, sync keeps arrival order); or --sweep: each engine's
  configuration search at --rate (sync: token budget 256..16K, with and without two-batch overlap; asap:
  colocated or an attention/expert split, micro-batch sizes and depths, with and without convoys), then the goodput (highest rate with >= 90%
  of requests within sloScale × their unloaded TTFT, at a rate within the run's ideal bound) of its --finalists
  best, then every other configuration once at that goodput (and, at cluster scale, asap's splits that balance
  the load measured there) and, of those keeping the SLO there, the two most efficient and the one with the
  most attainment to spare searched too (climbing the rates the first search tries, one step at a time), the
  best kept; asap's splits are balanced again from the runs at the rate just past the best goodput, and again
  while that raises it (at most 3 rounds); a point whose run keeps the SLO past its own ideal bound is settled by one of five times
  --requests; the two best searches' goodput is confirmed by runs of five times --requests (from the highest rate
  each passed down, then halfway back up), the best confirmed kept (short runs start from empty queues: near
  capacity they keep the SLO where long ones do not); and the ablation, confirmed the same way. Points run in
  parallel (one per core).
  --profile local reads what 'asap calibrate' wrote. Lengths are the trace's own (--length-scale 1).
${WORKLOAD_USAGE}`;

/** A built-in profile or `local` as named; anything else a path from where the user ran the command. */
function profileArgument(value: string | undefined): string {
  if (value === undefined) return 'cm384';
  return PROFILE_NAMES.includes(value) ? value : userPath(value);
}

export async function run(args: string[]): Promise<void> {
  if (helpOrDuplicates(args, USAGE)) return;
  const { values } = parseArgs({
    args,
    options: {
      ...WORKLOAD_OPTIONS,
      profile: { type: 'string' },
      model: { type: 'string' },
      engine: { type: 'string' },
      ranks: { type: 'string' },
      knobs: { type: 'string' },
      skew: { type: 'string' },
      eplb: { type: 'string' },
      sweep: { type: 'boolean', default: false },
      'slo-scale': { type: 'string' },
      'max-rate': { type: 'string' },
      steps: { type: 'string' },
      finalists: { type: 'string' },
      'skip-ablation': { type: 'boolean', default: false },
      out: { type: 'string' },
      yardstick: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const modelName = values.model ?? 'deepseek-v3';
  const model = (MODEL_SHAPES as readonly string[]).includes(modelName) ? modelShapeDir(modelName) : userPath(modelName);
  const config = await readModelConfig(model);
  const skew = values.skew === undefined ? 1 : Number(values.skew);
  if (!(Number.isFinite(skew) && skew >= 0)) throw new Error(`--skew must be a number >= 0, got "${values.skew}"`);
  const history = oneOf('eplb', values.eplb, ['on', 'off'], 'on') === 'on';
  const sim: SimSettings = { profile: profileArgument(values.profile), shapesOnly: { skew, history } };
  const ranks = positiveInteger('ranks', values.ranks, 384);
  const spec = workloadSpec({ 'length-scale': '1', ...values }, config.maxPositionEmbeddings, { rate: 200, requests: 2000, workload: 'poisson' });
  const json = values.json;
  if (values.sweep) {
    const sloScale = Number(oneOf('slo-scale', values['slo-scale'], SLO_SCALES.map(String), '5'));
    const started = performance.now();
    const { report, engines } = await runComparisonJob({
      title: `goodput sweep: ${ranks} ranks of ${sim.profile}, ${modelName}`,
      model,
      modelName,
      host: 'sim',
      ranks,
      sim,
      families: [clusterFamily(SYNC), clusterFamily(ASAP)],
      workload: spec,
      level: 'full',
      goodput: {
        sloScale,
        start: spec.rate,
        max: positiveNumber('max-rate', values['max-rate'], spec.rate * 16),
        steps: positiveInteger('steps', values.steps, 3),
        finalists: positiveInteger('finalists', values.finalists, 2),
      },
      skipAblation: values['skip-ablation'],
      checkReference: false,
      progress: progressBar(json),
    });
    const result: SimSweepResult = simSweepResult(sloScale, report, engines, { profile: values.profile ?? 'cm384', model: modelName, ranks });
    const wallS = (performance.now() - started) / 1000;
    const outDir = userPath(values.out ?? 'asap-sim');
    await mkdir(outDir, { recursive: true });
    await writeReportHtml(join(outDir, 'report.html'), report, engines);
    await writeFile(join(outDir, 'sweep.json'), `${JSON.stringify(result, null, 2)}\n`);
    if (json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.stderr.write(`sweep took ${wallS.toFixed(0)} s wall\n`);
      return;
    }
    process.stdout.write(
      `workload: ${report.workload.description}\n\n${comparisonTable(report)}\n\n` +
        `goodput at SLO×${sloScale}: sync* ${result.goodput.sync} req/s, asap* ${result.goodput.asap} req/s, ratio ${result.ratio === null ? 'n/a (sync* is 0)' : result.ratio.toFixed(2)}; ideal bound ${result.idealBound.toFixed(1)} req/s (sweep ${wallS.toFixed(0)} s wall)\n` +
        `report: ${join(outDir, 'report.html')}\n`,
    );
    return;
  }
  const name = oneOf<ComparedName>('engine', values.engine, ['sync', 'asap'], 'sync');
  const yardstick = values.yardstick ?? 'sync';
  const setup: EngineSetup = { engine: name, host: 'sim', ranks, knobs: withKnobs(clusterFamily(family(name)), parseKnobs(values.knobs)), ...sim };
  const requests = await buildWorkload(spec);
  const progress = progressBar(json);
  const started = performance.now();
  let curve: UnloadedTtft | undefined;
  const maxLength = Math.max(...requests.map((r) => r.promptTokens));
  if (yardstick === 'sync') {
    progress.stage('unloaded TTFT (sync)', 1);
    curve = await measureUnloaded(model, 'sim', ranks, unloadedLengths(maxLength), config.vocabSize, sim);
  } else if (yardstick !== 'none') {
    curve = await readSavedYardstick(userPath(yardstick), { profile: sim.profile, model: modelName, ranks, shapesOnly: sim.shapesOnly, maxLength });
  }
  let sloMs: ((request: { promptTokens: number }) => number) | undefined;
  const deadlineScale = values['slo-scale'] === undefined ? undefined : Number(oneOf('slo-scale', values['slo-scale'], SLO_SCALES.map(String), '2'));
  if (deadlineScale !== undefined) {
    const scale = deadlineScale;
    const yardstickCurve = curve;
    if (!yardstickCurve) throw new Error('--slo-scale needs the unloaded TTFT curve the deadlines are drawn from: not with --yardstick none');
    sloMs = (request) => scale * unloadedTtftAt(yardstickCurve, request.promptTokens);
  }
  progress.stage(`${name}, ${ranks} ranks`, requests.length);
  const runStarted = performance.now();
  const result = await runEngine(setup, model, requests, { vocabSize: config.vocabSize, seed: spec.seed, sloMs, onDone: () => progress.tick() });
  progress.stop();
  const wall = { unloadedS: (runStarted - started) / 1000, runS: (performance.now() - runStarted) / 1000 };
  const events = result.simEvents ?? 0;
  const figures = {
    ...loadFigures(result.records, result.elapsedMs, result.usage),
    attainment: curve ? summarize(setup, result.records, result.elapsedMs, result.usage, curve).attainment : undefined,
    // At the run's own SLO scale: the one its deadlines were drawn from.
    ...(curve && deadlineScale !== undefined && { attainmentByLength: attainmentByLength(result.records, curve, deadlineScale) }),
    roles: roleUsage(result.usage),
  };
  const perRank = figures.tokensPerS / ranks;
  const speed = `${events.toLocaleString('en-US')} events in ${wall.runS.toFixed(1)} s wall (${Math.round(events / wall.runS).toLocaleString('en-US')} events/s)${curve ? `; unloaded yardstick ${wall.unloadedS.toFixed(1)} s` : ''}`;
  if (json) {
    const workload = { ...spec, description: describeWorkload(spec) };
    process.stdout.write(`${JSON.stringify({ configuration: describeSetup(setup), setup, model: modelName, workload, deadlineScale: deadlineScale ?? null, unloaded: curve, ...figures, tokensPerSPerRank: perRank, simEvents: events })}\n`);
    // Wall-clock figures differ run to run: stderr, so the JSON stays byte-identical for a seed.
    process.stderr.write(`sim speed: ${speed}\n`);
    return;
  }
  const { ttftMs, attainment } = figures;
  const slo = attainment ? `; attainment ${SLO_SCALES.map((k) => `SLO×${k} ${(100 * attainment[String(k) as '2']).toFixed(1)}%`).join(', ')}` : '';
  const byLength = figures.attainmentByLength ? `within SLO×${deadlineScale} by prompt length: ${figures.attainmentByLength.map(describeGroup).join(', ')}\n` : '';
  process.stdout.write(
    `${describeSetup(setup)}, ${modelName}\nworkload: ${describeWorkload(spec)}\n` +
      `TTFT ms p50 ${ttftMs.p50.toFixed(1)}, p90 ${ttftMs.p90.toFixed(1)}, p99 ${ttftMs.p99.toFixed(1)}${slo}\n` +
      byLength +
      `${figures.roles.map(describeRole).join('\n')}\n` +
      `throughput ${figures.tokensPerS.toFixed(0)} tokens/s (${perRank.toFixed(0)} per rank), ideal bound ${figures.ideal.requestsPerS.toFixed(1)} req/s; simulated ${(result.elapsedMs / 1000).toFixed(2)} s\n` +
      `sim speed: ${speed}\n`,
  );
}

function describeGroup(g: LengthGroupAttainment): string {
  const upTo = g.maxTokens === null ? 'longer' : `≤${g.maxTokens.toLocaleString('en-US')}`;
  return `${upTo} ${g.within}/${g.requests} (${((100 * g.within) / g.requests).toFixed(1)}%)`;
}

function describeRole(r: RoleUsage): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const rows = r.rowsPerExpertCall > 0 ? `, ${r.rowsPerExpertCall.toFixed(1)} rows per expert call` : '';
  return `${r.role} × ${r.ranks}: utilization ${pct(r.utilization.mean)} (${pct(r.utilization.min)}–${pct(r.utilization.max)})${rows}`;
}
