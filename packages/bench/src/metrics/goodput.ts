// Goodput: the highest request rate at which SLO attainment stays at or above a target (90%). Attainment
// falls with rate, so the search doubles the rate until it fails, then bisects between the last rate that
// passed and the first that failed. Every rate it tries lies on one lattice (start × 2^k, each octave cut into
// 2^steps equal parts; max one of the start × 2^k), so searches from the same start — both engines', every configuration's — compare
// at the same resolution.

export interface GoodputPoint {
  readonly rate: number;
  readonly attainment: number;
  /**
   * The run's own ideal bound was below its rate: more work arrived than its ranks could do even perfectly
   * balanced, so a longer run could not keep up, whatever this short run's attainment (a short run at a loose
   * SLO absorbs a burst in its queues). Such a point fails. Present only when true.
   */
  readonly overloaded?: true;
  /**
   * Requests in the run that settled the point, present when it was not the search's own length: a short
   * run that kept the SLO past its ideal bound is settled by a longer one (the bound of a short run counts
   * the small batches of its ramp-up and drain, so it can say "overloaded" of a rate the engine sustains).
   */
  readonly requests?: number;
}

/**
 * What a measure of one rate reports: its attainment, whether the rate was beyond the run's ideal bound,
 * and the requests of the run that settled it when that was a longer run than the search's own.
 */
export type GoodputMeasure = number | { readonly attainment: number; readonly overloaded: boolean; readonly requests?: number };

export interface GoodputSearchOptions {
  /** First rate tried, requests/s. */
  readonly start: number;
  /** Never try above this. */
  readonly max: number;
  /** Bisection steps after the bracket is found. */
  readonly steps: number;
  /**
   * A lattice rate the configuration is expected to keep (a challenger at the winner's goodput): the search
   * tries it first and, when it passes, climbs the lattice from it one step at a time, so the rate just above
   * is tried rather than skipped by doubling (a search from 50 req/s on start 10's lattice, 2 steps, tries 60,
   * where doubling tried 100, 75, 62.5). When it fails, or is `start` itself, the search starts from `start`.
   */
  readonly from?: number;
  readonly target?: number;
  /** Called after each measured point (progress). */
  readonly onPoint?: (point: GoodputPoint) => void;
}

export interface GoodputResult {
  /** Highest passing rate tried; 0 when the start rate and its halvings down to start / 64 failed. */
  readonly goodput: number;
  readonly points: readonly GoodputPoint[];
}

const MAX_HALVINGS = 6;

/** Attainment a goodput point keeps by default. */
export const GOODPUT_TARGET = 0.9;

export async function searchGoodput(measure: (rate: number) => Promise<GoodputMeasure>, options: GoodputSearchOptions): Promise<GoodputResult> {
  const target = options.target ?? GOODPUT_TARGET;
  if (!(options.start > 0) || !(options.max >= options.start)) throw new RangeError(`goodput search: need 0 < start <= max, got ${options.start}, ${options.max}`);
  const points: GoodputPoint[] = [];
  const at = async (rate: number): Promise<boolean> => {
    const point = goodputPoint(rate, await measure(rate));
    points.push(point);
    options.onPoint?.(point);
    return passes(point, target);
  };
  let pass = 0;
  let fail = Number.POSITIVE_INFINITY;
  let rate = options.start;
  // From the start itself the usual search is the one that stays on the lattice.
  if (options.from !== undefined && options.from !== options.start && (await at(options.from))) {
    // Climbing costs 2^steps runs an octave against doubling's 1 + steps, and a challenger breaks near the
    // winner's goodput: a step or two.
    pass = options.from;
    while (pass < options.max) {
      rate = Math.min(options.max, pass + latticeStep(pass, options.start, options.steps));
      if (!(await at(rate))) break;
      pass = rate;
    }
    return { goodput: pass, points: sorted(points) };
  }
  // Bracket: double while passing, never past max; halve while failing, down to start / 64 (a goodput of 0
  // must mean "none at any sensible rate", not "none at the few rates tried").
  if (await at(rate)) {
    pass = rate;
    while (rate < options.max) {
      rate = Math.min(options.max, rate * 2);
      if (!(await at(rate))) {
        fail = rate;
        break;
      }
      pass = rate;
    }
  } else {
    fail = rate;
    for (let i = 0; i < MAX_HALVINGS && pass === 0; i++) {
      rate /= 2;
      if (await at(rate)) pass = rate;
      else fail = rate;
    }
  }
  if (pass > 0 && Number.isFinite(fail)) {
    for (let i = 0; i < options.steps; i++) {
      const mid = (pass + fail) / 2;
      if (await at(mid)) pass = mid;
      else fail = mid;
    }
  }
  return { goodput: pass, points: sorted(points) };
}

/**
 * A search's goodput confirmed by longer runs. A short run starts from empty queues and ends before a
 * backlog that grows slowly shows, so near capacity it keeps the SLO where a long one does not (16 cm384
 * ranks, Poisson, SLO×10: sync at 60 req/s kept 90%+ over 300 requests and 86.2% over 3,000). The rates
 * the search's `searched` points passed are measured long (`measureLong`), highest first (then halvings of
 * the lowest), until one keeps the SLO. When a higher one failed, the rate halfway between is measured long
 * too, and kept when it passes. `points`: the long runs.
 */
export async function confirmGoodput(
  measureLong: (rate: number) => Promise<GoodputMeasure>,
  searched: readonly GoodputPoint[],
  target = GOODPUT_TARGET,
): Promise<GoodputResult> {
  const points: GoodputPoint[] = [];
  const keeps = async (rate: number): Promise<boolean> => {
    const point = goodputPoint(rate, await measureLong(rate));
    points.push(point);
    return passes(point, target);
  };
  const passing = searched.filter((p) => passes(p, target)).map((p) => p.rate);
  if (passing.length === 0) return { goodput: 0, points };
  let failed = Number.POSITIVE_INFINITY;
  let goodput = 0;
  // Below the lowest passing rate (a challenger's search starts high), halving as a search does.
  const lowest = Math.min(...passing);
  const rates = [...passing.sort((a, b) => b - a), ...Array.from({ length: MAX_HALVINGS }, (_, i) => lowest / 2 ** (i + 1))];
  for (const rate of rates) {
    if (await keeps(rate)) {
      goodput = rate;
      break;
    }
    failed = rate;
  }
  if (goodput > 0 && Number.isFinite(failed) && (await keeps((goodput + failed) / 2))) goodput = (goodput + failed) / 2;
  return { goodput, points: sorted(points) };
}

/** The point kept `target` of its requests within the SLO at a rate within its run's ideal bound. */
export function passes(point: { readonly attainment: number; readonly overloaded?: boolean }, target = GOODPUT_TARGET): boolean {
  return point.attainment >= target && !point.overloaded;
}

/** A measure of one rate as a point of a search. */
export function goodputPoint(rate: number, measured: GoodputMeasure): GoodputPoint {
  const { attainment, overloaded, requests } = typeof measured === 'number' ? { attainment: measured, overloaded: false, requests: undefined } : measured;
  return { rate, attainment, ...(overloaded && { overloaded }), ...(requests !== undefined && { requests }) };
}

/** The lattice's spacing at a rate: its octave (start × 2^k ≤ rate) cut into 2^steps equal parts. */
export function latticeStep(rate: number, start: number, steps: number): number {
  const octave = Math.floor(Math.log2(rate / start) + 1e-9);
  return (start * 2 ** octave) / 2 ** steps;
}

function sorted(points: GoodputPoint[]): GoodputPoint[] {
  return points.sort((a, b) => a.rate - b.rate);
}
