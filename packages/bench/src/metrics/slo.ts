// SLOs: a request's TTFT objective is sloScale × the unloaded TTFT of a prompt of its length on the sync
// engine of the same size, interpolated between measured lengths.
import type { RequestRecord } from './request-log.ts';

export const SLO_SCALES = [2, 5, 10] as const;

/** Unloaded TTFT measured at a few prompt lengths (ascending). */
export interface UnloadedTtft {
  readonly lengths: readonly number[];
  readonly ttftMs: readonly number[];
}

/** Piecewise-linear in the length; beyond the measured range, the nearest segment's line (never below the smallest measured TTFT). */
export function unloadedTtftAt(curve: UnloadedTtft, length: number): number {
  const { lengths: x, ttftMs: y } = curve;
  if (x.length === 0 || x.length !== y.length) throw new RangeError('unloaded TTFT: the curve needs as many TTFTs as lengths, at least one');
  if (x.length === 1) return y[0];
  let i = 0;
  while (i < x.length - 2 && length > x[i + 1]) i++;
  const v = y[i] + ((y[i + 1] - y[i]) * (length - x[i])) / (x[i + 1] - x[i]);
  return Math.max(Math.min(...y), v);
}

export function withinSlo(record: RequestRecord, curve: UnloadedTtft, sloScale: number): boolean {
  return record.ttftMs <= sloScale * unloadedTtftAt(curve, record.promptTokens);
}

/** Share of requests within their SLO (1 for an empty log). */
export function attainment(records: readonly RequestRecord[], curve: UnloadedTtft, sloScale: number): number {
  if (records.length === 0) return 1;
  return records.filter((r) => withinSlo(r, curve, sloScale)).length / records.length;
}

/** Prompt tokens/s of the requests within their SLO, over `elapsedMs`. */
export function sloThroughput(records: readonly RequestRecord[], curve: UnloadedTtft, sloScale: number, elapsedMs: number): number {
  const tokens = records.filter((r) => withinSlo(r, curve, sloScale)).reduce((n, r) => n + r.promptTokens, 0);
  return elapsedMs > 0 ? (tokens * 1000) / elapsedMs : 0;
}

/** Prompt lengths that split a run's requests by size (up to each edge; the last group is everything longer). */
const LENGTH_GROUPS = [64, 256, 1024, 4096] as const;

export interface LengthGroupAttainment {
  /** Longest prompt in the group, tokens (null: longer than every edge). */
  readonly maxTokens: number | null;
  readonly requests: number;
  /** Of them, within sloScale × their unloaded TTFT. */
  readonly within: number;
}

/**
 * Attainment by prompt length: which requests miss, short or long, says whether a run lost them to waiting
 * behind long work (short prompts' SLOs are tight) or to capacity (long ones). Empty groups are left out.
 */
export function attainmentByLength(records: readonly RequestRecord[], curve: UnloadedTtft, sloScale: number, edges: readonly number[] = LENGTH_GROUPS): LengthGroupAttainment[] {
  const groups = [...edges, null].map((maxTokens) => ({ maxTokens, requests: 0, within: 0 }));
  for (const r of records) {
    let g = edges.findIndex((edge) => r.promptTokens <= edge);
    if (g < 0) g = edges.length;
    groups[g].requests++;
    if (withinSlo(r, curve, sloScale)) groups[g].within++;
  }
  return groups.filter((g) => g.requests > 0);
}
