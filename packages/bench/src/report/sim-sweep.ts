// The cluster sweep's result as the one JSON object `asap sim --sweep --json` prints: each engine's goodput
// at its best configuration, their ratio, the ideal bound, what each chose, and every attainment measured.
import type { GoodputPoint } from '../metrics/goodput.ts';
import { attainmentAt } from '../metrics/summary.ts';
import type { EngineComparison } from '../run/compare.ts';
import type { Knobs } from '../run/engines.ts';
import type { ComparisonReport } from './comparison.ts';

export interface SimSweepResult {
  readonly sloScale: number;
  readonly profile: string;
  readonly model: string;
  readonly ranks: number;
  readonly workload: string;
  readonly requests: number;
  /** Requests/s at >= 90% attainment, each engine at its best configuration. */
  readonly goodput: { readonly sync: number; readonly asap: number };
  /** asap* / sync*; null when sync* is 0 (no rate tried kept 90%: see `attainment` for the lowest tried). */
  readonly ratio: number | null;
  /**
   * Requests/s with perfect balance and free communication: the higher of the two engines' bounds, each from
   * its busy time per request in its run at its goodput rate (at the search's rate when its goodput is 0).
   */
  readonly idealBound: number;
  readonly ideal: { readonly sync: number; readonly asap: number };
  readonly best: { readonly sync: Knobs; readonly asap: Knobs };
  /**
   * Every point of the goodput searches; `overloaded`: the rate was past that run's ideal bound (a failing
   * point); `requests`: a longer run than the sweep's settled it (its short run kept the SLO past its bound).
   */
  readonly attainment: ReadonlyArray<{ readonly engine: string } & GoodputPoint>;
  /** Every goodput search, finalists then challengers: each configuration's goodput and the points it tried. */
  readonly searches: ReadonlyArray<{ readonly engine: string; readonly knobs: Knobs; readonly goodput: number; readonly points: readonly GoodputPoint[] }>;
  /**
   * The best searches' goodput confirmed by runs five times longer (`requests` on each point): `searched` what
   * the search's short runs found, `goodput` what the long runs confirmed. Each engine's goodput above is its best confirmed.
   */
  readonly confirmations: ReadonlyArray<{ readonly engine: string; readonly knobs: Knobs; readonly searched: number; readonly goodput: number; readonly points: readonly GoodputPoint[] }>;
  /** Every other configuration at the first winner's goodput (the second look). */
  readonly secondLook: ReadonlyArray<{ readonly engine: string; readonly knobs: Knobs } & GoodputPoint>;
  /** The configuration search at the starting rate: attainment at sloScale and p90 TTFT of each candidate. */
  readonly searched: ReadonlyArray<{ readonly engine: string; readonly knobs: Knobs; readonly attainment: number; readonly ttftP90Ms: number }>;
  readonly ablation: ComparisonReport['ablation'];
}

export function simSweepResult(
  sloScale: number,
  report: ComparisonReport,
  engines: readonly EngineComparison[],
  meta: { readonly profile: string; readonly model: string; readonly ranks: number },
): SimSweepResult {
  const of = (name: 'sync' | 'asap'): EngineComparison => {
    const e = engines.find((x) => x.name === name);
    if (!e) throw new Error(`sim sweep: no ${name} result`);
    return e;
  };
  const sync = of('sync');
  const asap = of('asap');
  const goodput = { sync: sync.goodput?.rate ?? 0, asap: asap.goodput?.rate ?? 0 };
  const ideal = {
    sync: sync.goodput?.idealAtGoodput ?? sync.result.summary.ideal.requestsPerS,
    asap: asap.goodput?.idealAtGoodput ?? asap.result.summary.ideal.requestsPerS,
  };
  return {
    sloScale,
    profile: meta.profile,
    model: meta.model,
    ranks: meta.ranks,
    workload: report.workload.description,
    requests: report.workload.requests,
    goodput,
    ratio: goodput.sync > 0 ? goodput.asap / goodput.sync : null,
    idealBound: Math.max(ideal.sync, ideal.asap),
    ideal,
    best: { sync: sync.best.knobs, asap: asap.best.knobs },
    attainment: engines.flatMap((e) => (e.goodput?.points ?? []).map((p) => ({ engine: e.name, ...p }))),
    searches: engines.flatMap((e) => (e.goodput?.searches ?? []).map((f) => ({ engine: e.name, ...f }))),
    confirmations: engines.flatMap((e) => (e.goodput?.confirmations ?? []).map((c) => ({ engine: e.name, ...c }))),
    secondLook: engines.flatMap((e) => (e.goodput?.secondLook ?? []).map((c) => ({ engine: e.name, knobs: c.knobs, ...c.point }))),
    searched: engines.flatMap((e) => e.candidates.map((c) => ({ engine: e.name, knobs: c.knobs, attainment: attainmentAt(c.summary, sloScale), ttftP90Ms: c.summary.ttftMs.p90 }))),
    ablation: report.ablation,
  };
}
