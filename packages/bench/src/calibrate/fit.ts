// Fits each op kind's roofline to its measured points: ms ≈ overhead + max(flops / flopRate, bytes / byteRate),
// the form the sim charges (`simCosts`), minimising the squared log error (every size counts alike).
import type { OpPoint } from './op-timings.ts';

export interface OpFit {
  readonly op: string;
  /** Achieved FLOP/s and bytes/s of this op kind (Infinity: the term never binds). */
  readonly flopsPerS: number;
  readonly bytesPerS: number;
  readonly overheadUs: number;
  /** Root mean square of log(predicted / measured) over the points: 0.1 ≈ 10%. */
  readonly rmsLogError: number;
}

function predictMs(p: OpPoint, overheadMs: number, flopsPerMs: number, bytesPerMs: number): number {
  return overheadMs + Math.max(p.flops / flopsPerMs, p.bytes / bytesPerMs);
}

function error(points: readonly OpPoint[], overheadMs: number, flopsPerMs: number, bytesPerMs: number): number {
  let sum = 0;
  for (const p of points) sum += Math.log(predictMs(p, overheadMs, flopsPerMs, bytesPerMs) / p.ms) ** 2;
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
  const rate = (key: 'flops' | 'bytes'): [number, number] => {
    const values = mine.map((p) => p[key] / p.ms).filter((v) => v > 0);
    // The op reaches at least its best observed rate; allow a wide margin above it.
    return values.length ? [Math.max(...values) / 2, Math.max(...values) * 50] : [Infinity, Infinity];
  };
  let [fLo, fHi] = rate('flops');
  let [bLo, bHi] = rate('bytes');
  let [oLo, oHi] = [0, Math.min(...mine.map((p) => p.ms))];
  let best = { e: Infinity, o: 0, f: Infinity, b: Infinity };
  for (let round = 0; round < 4; round++) {
    const fs = Number.isFinite(fLo) ? steps(fLo, fHi, 24) : [Infinity];
    const bs = Number.isFinite(bLo) ? steps(bLo, bHi, 24) : [Infinity];
    for (const o of steps(oLo, oHi, 24, true)) {
      for (const f of fs) {
        for (const b of bs) {
          const e = error(mine, o, f, b);
          if (e < best.e) best = { e, o, f, b };
        }
      }
    }
    const narrow = (v: number, lo: number, hi: number): [number, number] => (Number.isFinite(v) ? [Math.max(lo, v / (hi / lo) ** (1 / 12)), v * (hi / lo) ** (1 / 12)] : [lo, hi]);
    [fLo, fHi] = narrow(best.f, fLo, fHi);
    [bLo, bHi] = narrow(best.b, bLo, bHi);
    const span = (oHi - oLo) / 12;
    [oLo, oHi] = [Math.max(0, best.o - span), best.o + span];
  }
  return { op, flopsPerS: best.f * 1e3, bytesPerS: best.b * 1e3, overheadUs: best.o * 1e3, rmsLogError: best.e };
}
