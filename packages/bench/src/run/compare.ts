// The fair comparison: both engines on the same ranks, model, backend and workload; each at the best
// configuration the same search finds over its own knobs; SLOs from the unloaded sync engine of that size;
// optionally each engine's goodput, searched the same way.
import type { UnloadedTtft } from '../metrics/slo.ts';
import { type RunSummary, attainmentAt } from '../metrics/summary.ts';
import { confirmGoodput, searchGoodput } from '../metrics/goodput.ts';
import type { AblationBar } from '../report/charts.ts';
import { type Progress, SILENT } from '../report/progress.ts';
import type { WorkloadSpec } from '../workload/spec.ts';
import type { SimSettings } from './cluster.ts';
import type { EngineFamily, EngineSetup, Knobs, SearchLevel } from './engines.ts';
import type { PointResult, PointTask } from './point.ts';
import type { PointRunner } from './point-runner.ts';
import { CHALLENGERS, CONFIRMED, type Candidate, GoodputContest, type GoodputFindings, type GoodputSettings, SETTLING_LENGTH, goodputMeasure } from './goodput-contest.ts';

export interface EngineComparison {
  readonly name: string;
  /** The configuration every figure below was measured at. */
  readonly best: EngineSetup;
  readonly candidates: readonly Candidate[];
  /** The best configuration's run on the workload. */
  readonly result: PointResult;
  /** The goodput of the best configuration, and the searches behind it (with goodput searches). */
  readonly goodput?: GoodputFindings;
}

export interface CompareOptions {
  readonly model: string;
  readonly vocabSize: number;
  readonly host: EngineSetup['host'];
  readonly ranks: number;
  /** sim host: the hardware profile (and numerics off) every point runs with. */
  readonly sim?: SimSettings;
  readonly workload: WorkloadSpec;
  readonly curve: UnloadedTtft;
  readonly level: SearchLevel;
  /** Higher is better; default: attainment at sloScale 5, then lower p90 TTFT. */
  readonly score?: (summary: RunSummary) => number;
  /** `finalists`: how many of the best configurations at the search's rate get a goodput search (default 1). */
  readonly goodput?: GoodputSettings;
  /** Spans of this many ms of the best run, for the trace. */
  readonly traceWindowMs?: number;
  readonly progress?: Progress;
}

/** Without a goodput search, requests carry deadlines at this sloScale (the middle one reported). */
const DEADLINE_SCALE = 5;

/** Attainment at `scale` first, then the lower p90 TTFT. */
export const sloScore =
  (scale: number) =>
  (s: RunSummary): number =>
    attainmentAt(s, scale) * 1e6 - s.ttftMs.p90;

export const defaultScore = sloScore(DEADLINE_SCALE);

async function compareOne(family: EngineFamily, runner: PointRunner, o: CompareOptions): Promise<EngineComparison> {
  const progress = o.progress ?? SILENT;
  const task = (knobs: Knobs, workload: WorkloadSpec, traceWindowMs?: number): PointTask => ({
    setup: { engine: family.name, host: o.host, ranks: o.ranks, knobs, ...o.sim },
    model: o.model,
    vocabSize: o.vocabSize,
    workload,
    curve: o.curve,
    traceWindowMs,
    deadlineScale: o.goodput?.sloScale ?? DEADLINE_SCALE,
  });
  const score = o.score ?? defaultScore;
  const knobsList = o.level === 'none' ? [family.defaults] : family.candidates(o.ranks, o.level);
  const runs = await Promise.all(
    knobsList.map(async (knobs) => {
      const r = await runner.run(task(knobs, o.workload, o.traceWindowMs));
      progress.tick();
      return r;
    }),
  );
  const candidates: Candidate[] = runs.map((r, i) => ({ knobs: knobsList[i], score: score(r.summary), summary: r.summary }));
  const ranked = candidates.map((_, i) => i).sort((a, b) => candidates[b].score - candidates[a].score || a - b);
  let bestIndex = ranked[0];
  let goodput: GoodputFindings | undefined;
  if (o.goodput) {
    const setup = { family, runner, ranks: o.ranks, workload: o.workload, traceWindowMs: o.traceWindowMs, task, score, progress, candidates, runs };
    const won = await new GoodputContest(setup, o.goodput).run(ranked);
    bestIndex = won.index;
    goodput = won.findings;
  }
  const best = runs[bestIndex];
  return { name: family.name, best: best.summary.setup, candidates, result: best, goodput };
}

/** Each engine's search and runs; engines run concurrently where the runner allows (sim-host pools). */
export function compareEngines(families: readonly EngineFamily[], runner: PointRunner, options: CompareOptions): Promise<EngineComparison[]> {
  return Promise.all(families.map((f) => compareOne(f, runner, options)));
}

/**
 * About how many points a comparison runs, for a progress bar's total: each candidate at the search's rate
 * and, with goodput searches, each candidate again at the winner's goodput and the finalists' and challengers'
 * searches, and the best searches' confirmations (a search's length depends on where the SLO breaks: an estimate).
 */
export function plannedPoints(families: readonly EngineFamily[], options: CompareOptions): number {
  const g = options.goodput;
  return families.reduce((n, f) => {
    const candidates = options.level === 'none' ? 1 : f.candidates(options.ranks, options.level).length;
    if (!g) return n + candidates;
    const searches = Math.min(candidates, (g.finalists ?? 1) + CHALLENGERS + 1);
    // Each confirmation: about two long runs.
    return n + 2 * candidates + searches * (g.steps + 3) + 2 * Math.min(searches, CONFIRMED);
  }, 0);
}

/**
 * The ablation: the engine at its best configuration with each of its optimizations switched off in turn,
 * each variant's goodput found by the same search (the engine's own goodput is the "all on" bar).
 */
export async function ablate(family: EngineFamily, comparison: EngineComparison, runner: PointRunner, o: CompareOptions): Promise<AblationBar[]> {
  const g = o.goodput;
  if (!g || !comparison.goodput || !family.ablation?.length) return [];
  const bars: AblationBar[] = [{ variant: `${family.name}: all on`, goodput: comparison.goodput.rate }];
  for (const knob of family.ablation) {
    const knobs = { ...comparison.best.knobs, [knob]: false };
    const measure = async (rate: number, lengthTimes = 1) => {
      const workload = { ...o.workload, rate, requests: o.workload.requests * lengthTimes };
      const r = await runner.run({ setup: { ...comparison.best, knobs }, model: o.model, vocabSize: o.vocabSize, workload, curve: o.curve, deadlineScale: g.sloScale });
      o.progress?.tick();
      return goodputMeasure(r, rate, g.sloScale);
    };
    const found = await searchGoodput((rate) => measure(rate), { start: g.start, max: g.max, steps: g.steps });
    // Confirmed by long runs, as the engine's own goodput (the "all on" bar) was.
    const confirmed = await confirmGoodput((rate) => measure(rate, SETTLING_LENGTH), found.points);
    bars.push({ variant: `${family.name}: ${knob} off`, goodput: confirmed.goodput });
  }
  return bars;
}
