// Fits each op kind's roofline to its measured points: ms ≈ overhead + max(flops / flopRate, bytes / byteRate),
// the form the sim charges (`simCosts`), minimising the squared log error (every size counts alike). An op with
// context FLOPs (attention over its cache) gets a rate for those too: here whole prompts and chunks after a long
// cache of the same FLOPs took 13.3 and 7.8 ms, which one rate cannot fit.
import { rooflineMs } from '@asap/runtime';
import type { OpPoint } from './op-timings.ts';

export interface OpFit {
  readonly op: string;
  /** Achieved FLOP/s and bytes/s of this op kind (Infinity: the term never binds). */
  readonly flopsPerS: number;
  readonly bytesPerS: number;
  /** Achieved context FLOP/s (undefined: the op has none, they count as any other FLOP). */
  readonly contextFlopsPerS?: number;
  readonly overheadUs: number;
  /** Root mean square of log(predicted / measured) over the points: 0.1 ≈ 10%. */
  readonly rmsLogError: number;
}

function error(points: readonly OpPoint[], overheadMs: number, flopsPerMs: number, bytesPerMs: number, contextFlopsPerMs: number): number {
  // What the sim would charge at these rates (`rooflineMs`, as `simCosts` does).
  const rates = { overheadMs, flopsPerMs, bytesPerMs, contextFlopsPerMs };
  let sum = 0;
  for (const p of points) sum += Math.log(rooflineMs(p, rates) / p.ms) ** 2;
  return Math.sqrt(sum / points.length);
}

/** Values from `lo` to `hi` spaced evenly in log (or linearly when `linear`). */
function steps(lo: number, hi: number, n: number, linear = false): number[] {
  return Array.from({ length: n }, (_, i) => (linear ? lo + ((hi - lo) * i) / (n - 1) : lo * (hi / lo) ** (i / (n - 1))));
}

/** A coarse grid, then finer grids around the best point. */
export function fitOp(op: string, points: readonly OpPoint[]): OpFit {
  const mine = points.filter((p) => p.op === op && p.ms > 0);
  if (mine.length === 0) throw new Error(`calibrate: no timings of op "${op}"`);
  const withContext = mine.some((p) => p.contextFlops > 0);
  const rate = (amount: (p: OpPoint) => number): [number, number] => {
    const values = mine.map((p) => amount(p) / p.ms).filter((v) => v > 0);
    // The op reaches at least its best observed rate; allow a wide margin above it.
    return values.length ? [Math.max(...values) / 2, Math.max(...values) * 50] : [Infinity, Infinity];
  };
  let [fLo, fHi] = rate((p) => p.flops - p.contextFlops);
  let [bLo, bHi] = rate((p) => p.bytes);
  let [cLo, cHi] = withContext ? rate((p) => p.contextFlops) : [Infinity, Infinity];
  let [oLo, oHi] = [0, Math.min(...mine.map((p) => p.ms))];
  let best = { e: Infinity, o: 0, f: Infinity, b: Infinity, c: Infinity };
  const n = withContext ? 16 : 24;
  for (let round = 0; round < 4; round++) {
    const fs = Number.isFinite(fLo) ? steps(fLo, fHi, n) : [Infinity];
    const bs = Number.isFinite(bLo) ? steps(bLo, bHi, n) : [Infinity];
    const cs = withContext ? steps(cLo, cHi, n) : [Infinity];
    for (const o of steps(oLo, oHi, n, true)) {
      for (const f of fs) {
        for (const b of bs) {
          for (const c of cs) {
            const e = error(mine, o, f, b, c);
            if (e < best.e) best = { e, o, f, b, c };
          }
        }
      }
    }
    const narrow = (v: number, lo: number, hi: number): [number, number] => (Number.isFinite(v) ? [Math.max(lo, v / (hi / lo) ** (1 / 12)), v * (hi / lo) ** (1 / 12)] : [lo, hi]);
    [fLo, fHi] = narrow(best.f, fLo, fHi);
    [bLo, bHi] = narrow(best.b, bLo, bHi);
    if (withContext) [cLo, cHi] = narrow(best.c, cLo, cHi);
    const span = (oHi - oLo) / 12;
    [oLo, oHi] = [Math.max(0, best.o - span), best.o + span];
  }
  return { op, flopsPerS: best.f * 1e3, bytesPerS: best.b * 1e3, ...(withContext && { contextFlopsPerS: best.c * 1e3 }), overheadUs: best.o * 1e3, rmsLogError: best.e };
}
