// A whole comparison as the demo and `asap sweep` run it: measure the SLO yardstick, search and run every
// available engine, check first tokens against the reference, and assemble the report document.
import { readModelConfig } from '@asap/actors';
import type { AblationBar } from '../report/charts.ts';
import type { SimSettings } from './cluster.ts';
import { type ComparisonReport, comparisonReport } from '../report/comparison.ts';
import { type Progress, SILENT } from '../report/progress.ts';
import { type WorkloadSpec, buildWorkload } from '../workload/spec.ts';
import { type CompareOptions, type EngineComparison, ablate, compareEngines, plannedPoints, sloScore } from './compare.ts';
import { COMPARED, type EngineFamily, type SearchLevel, engineAvailable } from './engines.ts';
import { pointRunner } from './point-runner.ts';
import { checkAgainstReference, referenceFirstTokens } from './reference-check.ts';
import { measureUnloaded, unloadedLengths } from './unloaded.ts';

export interface JobOptions {
  readonly title: string;
  readonly model: string;
  readonly modelName: string;
  readonly host: 'threads' | 'sim';
  readonly ranks: number;
  readonly workload: WorkloadSpec;
  readonly level: SearchLevel;
  readonly goodput?: CompareOptions['goodput'];
  readonly traceWindowMs?: number;
  /** Run every request through the reference forward and compare first tokens. */
  readonly checkReference: boolean;
  readonly progress?: Progress;
  /** sim host: a hardware profile (and numerics off) instead of the default one-core cost model. */
  readonly sim?: SimSettings;
  /** The engines and their searches (default: every available engine, with its own search). */
  readonly families?: readonly EngineFamily[];
  /** Skip the ablation (each optimization off in turn, a goodput search each). Default false. */
  readonly skipAblation?: boolean;
}

export interface JobResult {
  readonly report: ComparisonReport;
  readonly engines: readonly EngineComparison[];
}

export async function availableFamilies(): Promise<{ available: EngineFamily[]; unavailable: string[] }> {
  const flags = await Promise.all(COMPARED.map((f) => engineAvailable(f.name)));
  return { available: COMPARED.filter((_, i) => flags[i]), unavailable: COMPARED.filter((_, i) => !flags[i]).map((f) => f.name) };
}

export async function runComparisonJob(o: JobOptions): Promise<JobResult> {
  const progress = o.progress ?? SILENT;
  const config = await readModelConfig(o.model);
  const { available, unavailable } = o.families ? { available: [...o.families], unavailable: [] } : await availableFamilies();
  const requests = await buildWorkload(o.workload);
  const maxLength = Math.max(...requests.map((r) => r.promptTokens));
  const lengths = unloadedLengths(maxLength);
  progress.stage('unloaded TTFT (sync)', 1);
  const curve = await measureUnloaded(o.model, o.host, o.ranks, lengths, config.vocabSize, o.sim);
  progress.tick();
  const options: CompareOptions = {
    model: o.model,
    vocabSize: config.vocabSize,
    host: o.host,
    ranks: o.ranks,
    sim: o.sim,
    workload: o.workload,
    curve,
    level: o.level,
    goodput: o.goodput,
    // With a goodput search, configurations are ranked by attainment at its SLO scale, not the default 5.
    score: o.goodput ? sloScore(o.goodput.sloScale) : undefined,
    traceWindowMs: o.traceWindowMs,
    progress,
  };
  progress.stage(o.goodput ? 'engines (configuration and goodput searches)' : 'engines (configuration search)', plannedPoints(available, options));
  const runner = pointRunner(o.host);
  let engines: EngineComparison[];
  const ablation: AblationBar[] = [];
  try {
    engines = await compareEngines(available, runner, options);
    if (!o.skipAblation) for (const [i, e] of engines.entries()) ablation.push(...(await ablate(available[i], e, runner, options)));
  } finally {
    await runner.close();
  }
  let reference;
  if (o.checkReference) {
    progress.stage('reference forward (first tokens)', requests.length);
    const tokens = await referenceFirstTokens(o.model, requests, config.vocabSize, o.workload.seed, () => progress.tick());
    reference = checkAgainstReference(tokens, engines.map((e) => ({ name: e.name, records: e.result.records })));
  }
  progress.stop();
  const report = comparisonReport({ title: o.title, model: o.modelName, host: o.host, ranks: o.ranks, workload: o.workload, unloaded: curve, unavailable, reference, engines, ablation });
  return { report, engines };
}
