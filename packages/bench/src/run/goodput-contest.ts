// The goodput half of a configuration search: the finalists' goodput searches, a second look at every other
// configuration at the winner's goodput, the configurations the family suggests from the load measured
// there, and searches for the likeliest to go further; then the best searches' goodput confirmed by longer
// runs — the best confirmed kept.
import type { RunSummary } from '../metrics/summary.ts';
import { attainmentAt } from '../metrics/summary.ts';
import { GOODPUT_TARGET, type GoodputPoint, confirmGoodput, goodputPoint, passes, searchGoodput } from '../metrics/goodput.ts';
import type { Progress } from '../report/progress.ts';
import type { WorkloadSpec } from '../workload/spec.ts';
import type { EngineFamily, Knobs } from './engines.ts';
import type { PointResult, PointTask } from './point.ts';
import type { PointRunner } from './point-runner.ts';

export interface Candidate {
  readonly knobs: Knobs;
  readonly score: number;
  readonly summary: RunSummary;
}

/** The goodput searches' settings: from `start` up to `max` req/s, at `sloScale`, `finalists` searched first (default 1). */
export interface GoodputSettings {
  readonly sloScale: number;
  readonly start: number;
  readonly max: number;
  readonly steps: number;
  readonly finalists?: number;
}

/**
 * What the contest found: the winner's goodput and points, and every search and second-look point behind it.
 * `idealAtGoodput`: the ideal bound (requests/s) of the run at the goodput rate — expert batches grow with
 * load, so the bound measured at the search's rate is not one at higher rates. Absent when goodput is 0.
 */
export interface GoodputFindings {
  readonly sloScale: number;
  readonly rate: number;
  readonly points: readonly GoodputPoint[];
  readonly idealAtGoodput?: number;
  /** Every goodput search made, finalists then challengers: what each configuration reached. */
  readonly searches: ReadonlyArray<{ readonly knobs: Knobs; readonly goodput: number; readonly points: readonly GoodputPoint[] }>;
  /** The second look: each other configuration at the first winner's goodput, each refined one at the winner's goodput when suggested. */
  readonly secondLook: ReadonlyArray<{ readonly knobs: Knobs; readonly point: GoodputPoint }>;
  /** The best searches, confirmed: the goodput each search found, the goodput its long runs confirmed, and those runs. */
  readonly confirmations: ReadonlyArray<{ readonly knobs: Knobs; readonly searched: number; readonly goodput: number; readonly points: readonly GoodputPoint[] }>;
}

/** Where the contest runs its points, and the candidates it starts from (refinements are appended to both lists). */
export interface ContestSetup {
  readonly family: EngineFamily;
  readonly runner: PointRunner;
  readonly ranks: number;
  readonly workload: WorkloadSpec;
  readonly traceWindowMs: number | undefined;
  readonly task: (knobs: Knobs, workload: WorkloadSpec, traceWindowMs?: number) => PointTask;
  readonly score: (summary: RunSummary) => number;
  readonly progress: Progress;
  readonly candidates: Candidate[];
  /** Each candidate's run at the workload's rate, by index. */
  readonly runs: PointResult[];
}

/** One configuration at one rate as the goodput search reads it, and the run that settled it. */
interface Settled {
  readonly run: PointResult;
  readonly measure: { readonly attainment: number; readonly overloaded: boolean; readonly requests?: number };
}

/** One configuration's goodput search: its index among the candidates, what it found, its ideal bound there. */
interface GoodputSearch {
  readonly index: number;
  readonly goodput: number;
  readonly points: readonly GoodputPoint[];
  readonly idealAtGoodput: number | undefined;
  /** The run that settled the goodput rate (absent when goodput is 0). */
  readonly atGoodput: Settled | undefined;
  /** Every rate the search tried, and the run that settled it. */
  readonly tried: ReadonlyMap<number, Settled>;
}

/** Candidate `i` at one rate, and the run that settled it. */
interface AtRate {
  readonly i: number;
  readonly settled: Settled;
}

const attainment = (c: AtRate): number => c.settled.measure.attainment;
const idealRate = (c: AtRate): number => c.settled.run.summary.ideal.requestsPerS;

/** Kept the SLO within its ideal bound: a pass for the goodput search. */
const keeps = (c: AtRate): boolean => passes(c.settled.measure);

/** A goodput search's reading of one run: attainment at the SLO, and whether its rate was past its ideal bound. */
export function goodputMeasure(run: PointResult, rate: number, sloScale: number): { attainment: number; overloaded: boolean } {
  return { attainment: attainmentAt(run.summary, sloScale), overloaded: run.summary.ideal.requestsPerS < rate };
}

/**
 * A point whose run kept the SLO but whose rate was past the run's ideal bound is run again this many times
 * longer, and that run settles it; the best searches' goodput is confirmed by runs this many times longer.
 * The bound counts the small batches of a short run's ramp-up and drain: 16 cm384 ranks, Poisson at 60 req/s,
 * SLO×10 — asap 7 + 9 over 300 requests had a bound of 56.6 req/s, over 2,000 it kept 96.1% with a bound of
 * 64.0; 10 + 6 at 61.25 kept 94% over 300 (bound 40.4) and 28.7% over 2,000.
 */
export const SETTLING_LENGTH = 5;

/**
 * How many of the best searches (by goodput, then attainment there) have their goodput confirmed by long runs:
 * a short run's ranking near capacity is not a long run's (the backlog that decides it has not grown yet).
 */
export const CONFIRMED = 2;

/** How many configurations keeping the SLO at the first winner's goodput get a search for their capacity (one more for its margin). */
export const CHALLENGERS = 2;

/** At most this many rounds of balancing again past a raised goodput (each costs a few runs; 16 ranks settle in one or two). */
const REFINE_ROUNDS = 3;

export class GoodputContest {
  private readonly searches: GoodputSearch[] = [];
  private readonly secondLook: Array<{ readonly knobs: Knobs; readonly point: GoodputPoint }> = [];
  private readonly confirmations: Array<GoodputFindings['confirmations'][number]> = [];

  constructor(
    private readonly s: ContestSetup,
    private readonly g: GoodputSettings,
  ) {}

  /** The winner among the candidates (`ranked`: their indices, best at the search's rate first) and its findings. */
  async run(ranked: readonly number[]): Promise<{ readonly index: number; readonly findings: GoodputFindings }> {
    const { candidates, runs, workload } = this.s;
    const g = this.g;
    // The goodput of each finalist: the best at the search's rate and, next, the most efficient (highest ideal
    // bound) of those keeping the SLO there — the configuration that wins at one rate need not be the one
    // that keeps the SLO at the highest rate (a small chunk budget wins at low load, a larger one goes further).
    const slo = (i: number): number => attainmentAt(candidates[i].summary, g.sloScale);
    const efficient = ranked.filter((i) => slo(i) >= GOODPUT_TARGET).sort((a, b) => candidates[b].summary.ideal.requestsPerS - candidates[a].summary.ideal.requestsPerS);
    const finalists = [...new Set([ranked[0], ...efficient, ...ranked])].slice(0, Math.max(1, g.finalists ?? 1));
    // The candidates' runs were at the workload's rate: a search starting there starts from them.
    const fromCandidate = async (i: number) =>
      workload.rate === g.start ? { rate: g.start, settled: await this.settle(candidates[i].knobs, g.start, runs[i]) } : undefined;
    const found = await Promise.all(finalists.map(async (i) => this.search(i, await fromCandidate(i))));
    this.searches.push(...found);
    let winner = found.reduce((b, f) => (f.goodput > b.goodput ? f : b));
    if (winner.goodput > 0) winner = await this.beyondFinalists(winner, finalists);
    const searches = this.searches.map((f) => ({ knobs: candidates[f.index].knobs, goodput: f.goodput, points: f.points }));
    if (winner.goodput > 0) winner = await this.confirmBest();
    const { goodput: rate, points, idealAtGoodput } = winner;
    const findings: GoodputFindings = {
      sloScale: g.sloScale,
      rate,
      points,
      ...(idealAtGoodput !== undefined && { idealAtGoodput }),
      searches,
      secondLook: this.secondLook,
      confirmations: this.confirmations,
    };
    return { index: winner.index, findings };
  }

  /**
   * The ranking at the search's rate can miss the configuration that goes furthest (at 16 ranks, an
   * attention/expert split no finalist had kept 90% at 1.4× the winner's goodput): every other candidate
   * runs once at the winner's goodput, with what the family suggests from the load measured there, and the
   * likeliest to go further get searches.
   */
  private async beyondFinalists(first: GoodputSearch, finalists: readonly number[]): Promise<GoodputSearch> {
    const { candidates } = this.s;
    const others = candidates.map((_, i) => i).filter((i) => !finalists.includes(i));
    const atWinner = await Promise.all(others.map(async (i) => ({ i, settled: await this.settle(candidates[i].knobs, first.goodput) })));
    // Beyond the grid: what the load measured at the winner's goodput suggests (the best runs there first).
    const measuredThere = [
      ...(first.atGoodput ? [{ knobs: candidates[first.index].knobs, summary: first.atGoodput.run.summary }] : []),
      ...atWinner
        .filter(keeps)
        .sort((a, b) => attainment(b) - attainment(a) || a.i - b.i)
        .map((c) => ({ knobs: candidates[c.i].knobs, summary: c.settled.run.summary })),
    ];
    atWinner.push(...(await this.refined(measuredThere, first.goodput)));
    let winner = await this.contest(first, atWinner);
    // The balance moves with load (16 ranks, Poisson, SLO×10: 5 + 11 balanced 40 req/s, 7 + 9 balanced 60),
    // so balance again from the searches' runs at the rate just past the winner's goodput — the load the next
    // step must carry — and again while that raises the goodput, until the suggestions are all measured.
    for (let round = 0; round < REFINE_ROUNDS; round++) {
      const past = Math.min(...[...winner.tried.keys()].filter((rate) => rate > winner.goodput));
      if (!Number.isFinite(past)) break;
      const measuredPast = this.searches
        .flatMap((f) => {
          const settled = f.tried.get(past);
          return settled ? [{ knobs: candidates[f.index].knobs, summary: settled.run.summary, attainment: settled.measure.attainment }] : [];
        })
        .sort((a, b) => b.attainment - a.attainment);
      const before = winner.goodput;
      winner = await this.contest(winner, await this.refined(measuredPast, winner.goodput));
      if (!(winner.goodput > before)) break;
    }
    return winner;
  }

  /**
   * The CONFIRMED best searches (by goodput, then attainment there), each one's goodput confirmed by long runs;
   * the best confirmed (ties: the better search). Its points are its search's, each rate run long in place of
   * the short run, and its ideal bound the long run's at the confirmed goodput.
   */
  private async confirmBest(): Promise<GoodputSearch> {
    const atBest = (f: GoodputSearch): number => f.atGoodput?.measure.attainment ?? 0;
    const best: GoodputSearch[] = [];
    for (const f of [...this.searches].sort((a, b) => b.goodput - a.goodput || atBest(b) - atBest(a))) {
      if (best.length < CONFIRMED && f.goodput > 0 && !best.some((b) => b.index === f.index)) best.push(f);
    }
    // In the order of `best`, whichever finishes first: the findings are the same from run to run.
    const confirmed = await Promise.all(best.map((f) => this.confirm(f)));
    this.confirmations.push(...confirmed.map((c) => c.confirmation));
    return confirmed.map((c) => c.search).reduce((w, f) => (f.goodput > w.goodput ? f : w));
  }

  /** One search's goodput confirmed by long runs (a rate the search already ran long is not run again). */
  private async confirm(f: GoodputSearch): Promise<{ search: GoodputSearch; confirmation: GoodputFindings['confirmations'][number] }> {
    const knobs = this.s.candidates[f.index].knobs;
    const long = new Map<number, Settled>();
    for (const [rate, settled] of f.tried) if (settled.measure.requests !== undefined) long.set(rate, settled);
    const result = await confirmGoodput(async (rate) => {
      let settled = long.get(rate);
      if (!settled) long.set(rate, (settled = await this.longRun(knobs, rate)));
      return settled.measure;
    }, f.points);
    const tried = new Map([...f.tried, ...long]);
    const atGoodput = tried.get(result.goodput);
    const points = [...tried].map(([rate, settled]) => goodputPoint(rate, settled.measure)).sort((a, b) => a.rate - b.rate);
    return {
      search: { index: f.index, goodput: result.goodput, points, idealAtGoodput: atGoodput?.run.summary.ideal.requestsPerS, atGoodput, tried },
      confirmation: { knobs, searched: f.goodput, goodput: result.goodput, points: result.points },
    };
  }

  /** A run SETTLING_LENGTH times the workload's requests, and what it settles. */
  private async longRun(knobs: Knobs, rate: number): Promise<Settled> {
    const { runner, task, workload, progress } = this.s;
    const run = await runner.run(task(knobs, { ...workload, rate, requests: workload.requests * SETTLING_LENGTH }));
    progress.tick();
    return { run, measure: { ...goodputMeasure(run, rate, this.g.sloScale), requests: run.summary.requests } };
  }

  /** A point's short run, and when it kept the SLO past its ideal bound, the longer run that settles it. */
  private async settle(knobs: Knobs, rate: number, short?: PointResult): Promise<Settled> {
    const { runner, task, workload, progress } = this.s;
    let run = short;
    if (!run) {
      run = await runner.run(task(knobs, { ...workload, rate }));
      progress.tick();
    }
    const measure = goodputMeasure(run, rate, this.g.sloScale);
    if (!(measure.attainment >= GOODPUT_TARGET && measure.overloaded)) return { run, measure };
    return this.longRun(knobs, rate);
  }

  /**
   * Candidate `i`'s goodput search. `known`: a run of it already made at one rate, which the search starts
   * from: at the search's start rate as any search does, above it (a challenger at the winner's goodput) by climbing.
   */
  private async search(i: number, known?: { readonly rate: number; readonly settled: Settled }): Promise<GoodputSearch> {
    const points = new Map<number, Settled>(known ? [[known.rate, known.settled]] : []);
    const result = await searchGoodput(
      async (rate) => {
        let p = points.get(rate);
        if (!p) {
          p = await this.settle(this.s.candidates[i].knobs, rate);
          points.set(rate, p);
        }
        return p.measure;
      },
      { start: this.g.start, from: known?.rate, max: this.g.max, steps: this.g.steps },
    );
    const atGoodput = points.get(result.goodput);
    return { index: i, ...result, idealAtGoodput: atGoodput?.run.summary.ideal.requestsPerS, atGoodput, tried: points };
  }

  /**
   * What the family suggests from runs measured at some load, each new configuration run at the search's
   * rate (as every candidate was, and added to the candidates) and settled at `rate`.
   */
  private async refined(measured: ReadonlyArray<{ readonly knobs: Knobs; readonly summary: RunSummary }>, rate: number): Promise<AtRate[]> {
    const { family, runner, task, ranks, workload, traceWindowMs, score, progress, candidates, runs } = this.s;
    const suggested = (family.refine?.(ranks, measured) ?? []).filter((k) => !candidates.some((c) => sameKnobs(c.knobs, k)));
    return Promise.all(
      suggested.map(async (knobs) => {
        const r = await runner.run(task(knobs, workload, traceWindowMs));
        progress.tick();
        const i = candidates.length;
        runs.push(r);
        candidates.push({ knobs, score: score(r.summary), summary: r.summary });
        return { i, settled: await this.settle(knobs, rate) };
      }),
    );
  }

  /**
   * Configurations measured at the winner's goodput (each joins the second look); of those keeping the SLO
   * there, the likeliest to go further get a search from it: the most efficient there (highest ideal bound:
   * capacity) and the one with the most attainment to spare (latency margin: at a moderate SLO, small
   * micro-batches that read the weights more often can still go furthest). The best of them and the winner.
   */
  private async contest(winner: GoodputSearch, measured: readonly AtRate[]): Promise<GoodputSearch> {
    for (const c of measured) this.secondLook.push({ knobs: this.s.candidates[c.i].knobs, point: goodputPoint(winner.goodput, c.settled.measure) });
    const keeping = measured.filter(keeps);
    const byIdeal = [...keeping].sort((a, b) => idealRate(b) - idealRate(a) || a.i - b.i).slice(0, CHALLENGERS);
    const byMargin = [...keeping].sort((a, b) => attainment(b) - attainment(a) || idealRate(b) - idealRate(a) || a.i - b.i)[0];
    const challengers = byMargin === undefined || byIdeal.includes(byMargin) ? byIdeal : [...byIdeal, byMargin];
    const contests = await Promise.all(challengers.map((c) => this.search(c.i, { rate: winner.goodput, settled: c.settled })));
    this.searches.push(...contests);
    return contests.reduce((w, f) => (f.goodput > w.goodput ? f : w), winner);
  }
}

/** The same knob values, whatever their order. */
function sameKnobs(a: Knobs, b: Knobs): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
