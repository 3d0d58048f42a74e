// Fitting a trace to an experiment: a time window, time-scaling to a target rate, length-scaling to a
// model's context, and seeded sampling. Each returns new rows; none mutates its input.
import type { SeededRandom } from '@asap/runtime';
import type { WorkloadRequest } from './request.ts';
import type { TraceRow } from './trace.ts';

/** The rows in [startS, startS + durationS) of the trace, times shifted to start at 0. */
export function traceWindow(rows: readonly TraceRow[], startS: number, durationS: number): TraceRow[] {
  if (!(startS >= 0) || !(durationS > 0)) throw new RangeError(`trace window: start must be >= 0 and duration > 0 s, got ${startS}, ${durationS}`);
  const from = startS * 1000;
  const to = from + durationS * 1000;
  const inside = rows.filter((r) => r.timeMs >= from && r.timeMs < to);
  if (inside.length === 0) throw new RangeError(`trace window: no request in [${startS}, ${startS + durationS}) s`);
  return inside.map((r) => ({ ...r, timeMs: r.timeMs - from }));
}

/** `count` rows drawn without replacement, kept in time order. */
export function sampleRows(rows: readonly TraceRow[], count: number, random: SeededRandom): TraceRow[] {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`trace sample: count must be a positive integer, got ${count}`);
  if (count >= rows.length) return [...rows];
  const index = rows.map((_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random.next() * (index.length - i));
    [index[i], index[j]] = [index[j], index[i]];
  }
  return index.slice(0, count).sort((a, b) => a - b).map((i) => rows[i]);
}

/** Lengths times `factor`, rounded, clamped to [1, maxTokens] so every prompt fits the model's context. */
export function scaleLengths(rows: readonly TraceRow[], factor: number, maxTokens: number): TraceRow[] {
  if (!(factor > 0)) throw new RangeError(`length scale must be > 0, got ${factor}`);
  return rows.map((r) => ({ ...r, contextTokens: Math.min(maxTokens, Math.max(1, Math.round(r.contextTokens * factor))) }));
}

/** Requests from rows, arrival times compressed or stretched so the mean rate is `rate` requests/s. */
export function traceRequests(rows: readonly TraceRow[], rate?: number): WorkloadRequest[] {
  const span = rows.length > 1 ? rows[rows.length - 1].timeMs - rows[0].timeMs : 0;
  let factor = 1;
  if (rate !== undefined) {
    if (!(rate > 0)) throw new RangeError(`trace rate must be > 0 requests/s, got ${rate}`);
    // n requests over the span at the trace's own rate (n - 1 gaps); the factor makes the mean gap 1/rate.
    factor = span > 0 ? (rows.length - 1) / rate / (span / 1000) : 1;
  }
  const t0 = rows[0]?.timeMs ?? 0;
  return rows.map((r, id) => ({ id, arrivalMs: (r.timeMs - t0) * factor, promptTokens: r.contextTokens }));
}
