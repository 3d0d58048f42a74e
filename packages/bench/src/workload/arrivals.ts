// Arrival processes: Poisson (exponential gaps) and bursty (Gamma gaps with a chosen coefficient of
// variation: cv 1 is Poisson, larger cv clusters requests into bursts at the same mean rate).
import type { SeededRandom } from '@asap/runtime';

function checkRate(rate: number, count: number): void {
  if (!(rate > 0 && Number.isFinite(rate))) throw new RangeError(`arrivals: rate must be a positive number of requests/s, got ${rate}`);
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`arrivals: count must be a non-negative integer, got ${count}`);
}

/** Uniform in (0, 1]: safe under a logarithm. */
const open = (random: SeededRandom): number => 1 - random.next();

function standardNormal(random: SeededRandom): number {
  return Math.sqrt(-2 * Math.log(open(random))) * Math.cos(2 * Math.PI * random.next());
}

/** Gamma(shape, 1) by Marsaglia and Tsang; shapes below 1 by the boost u^(1/shape). */
export function gammaSample(shape: number, random: SeededRandom): number {
  if (shape < 1) return gammaSample(shape + 1, random) * open(random) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = standardNormal(random);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = open(random);
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** `count` Poisson arrivals at `rate` requests/s, ms from 0. */
export function poissonArrivals(rate: number, count: number, random: SeededRandom): number[] {
  checkRate(rate, count);
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    t += (-Math.log(open(random)) / rate) * 1000;
    out.push(t);
  }
  return out;
}

/** `count` arrivals whose gaps are Gamma with mean 1/rate and coefficient of variation `cv`. */
export function gammaArrivals(rate: number, cv: number, count: number, random: SeededRandom): number[] {
  checkRate(rate, count);
  if (!(cv > 0 && Number.isFinite(cv))) throw new RangeError(`arrivals: cv must be a positive number, got ${cv}`);
  const shape = 1 / (cv * cv);
  const scaleMs = 1000 / (rate * shape);
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    t += gammaSample(shape, random) * scaleMs;
    out.push(t);
  }
  return out;
}
