// A workload as plain data (it crosses into sweep workers and into every report), and the one function
// that turns it into requests. Same spec, same seed → the same requests.
import { SeededRandom } from '@asap/runtime';
import { gammaArrivals, poissonArrivals } from './arrivals.ts';
import { type LengthDistribution, drawLengths, empiricalLength, mixtureLength, uniformLength } from './lengths.ts';
import { type WorkloadRequest, toRequests } from './request.ts';
import { CONVERSATION_TRACE, type TraceRow, loadTrace } from './trace.ts';
import { sampleRows, scaleLengths, traceRequests, traceWindow } from './transform.ts';

export type LengthSpec =
  /** The (length-scaled) prompt lengths of the trace. */
  | { readonly kind: 'trace' }
  | { readonly kind: 'uniform'; readonly min: number; readonly max: number }
  /** Short prompts with a share of long ones among them: where a barrier hurts. */
  | { readonly kind: 'mixed'; readonly short: readonly [number, number]; readonly long: readonly [number, number]; readonly longShare: number };

export interface WorkloadSpec {
  /** `trace`: the trace's own arrival times, time-scaled to `rate`. */
  readonly arrivals: 'poisson' | 'bursty' | 'trace';
  /** Mean requests/s. */
  readonly rate: number;
  readonly requests: number;
  /** Bursty arrivals' coefficient of variation of the gaps (default 4). */
  readonly cv?: number;
  /** Trace file for trace arrivals and trace lengths (default: the conversation trace in data/). */
  readonly trace?: string;
  /** Trace arrivals: take the requests in this window of the trace, in s. */
  readonly window?: { readonly startS: number; readonly durationS: number };
  /** Default `{ kind: 'trace' }`. */
  readonly lengths?: LengthSpec;
  /** Trace lengths are multiplied by this (default 1) ... */
  readonly lengthScale?: number;
  /** ... and clamped to this: the model's context. */
  readonly maxTokens: number;
  readonly seed: number;
}

function lengthDistribution(spec: LengthSpec, traceLengths: () => number[]): LengthDistribution {
  switch (spec.kind) {
    case 'trace':
      return empiricalLength(traceLengths());
    case 'uniform':
      return uniformLength(spec.min, spec.max);
    case 'mixed':
      return mixtureLength([
        { weight: 1 - spec.longShare, lengths: uniformLength(spec.short[0], spec.short[1]) },
        { weight: spec.longShare, lengths: uniformLength(spec.long[0], spec.long[1]) },
      ]);
  }
}

export async function buildWorkload(spec: WorkloadSpec): Promise<WorkloadRequest[]> {
  const random = new SeededRandom(spec.seed);
  const lengthsSpec = spec.lengths ?? { kind: 'trace' };
  const needsTrace = spec.arrivals === 'trace' || lengthsSpec.kind === 'trace';
  let rows: TraceRow[] = needsTrace ? await loadTrace(spec.trace ?? CONVERSATION_TRACE) : [];
  if (spec.window) rows = traceWindow(rows, spec.window.startS, spec.window.durationS);
  rows = scaleLengths(rows, spec.lengthScale ?? 1, spec.maxTokens);
  if (spec.arrivals === 'trace') {
    const picked = sampleRows(rows, spec.requests, random);
    const requests = traceRequests(picked, spec.rate);
    if (lengthsSpec.kind === 'trace') return requests;
    const lengths = drawLengths(lengthDistribution(lengthsSpec, () => []), requests.length, random);
    return toRequests(requests.map((r) => r.arrivalMs), lengths);
  }
  const arrivals = spec.arrivals === 'poisson' ? poissonArrivals(spec.rate, spec.requests, random) : gammaArrivals(spec.rate, spec.cv ?? 4, spec.requests, random);
  const lengths = drawLengths(lengthDistribution(lengthsSpec, () => rows.map((r) => r.contextTokens)), spec.requests, random);
  return toRequests(arrivals, lengths);
}

/** One line for reports. */
export function describeWorkload(spec: WorkloadSpec): string {
  const l = spec.lengths ?? { kind: 'trace' };
  const lengths =
    l.kind === 'trace'
      ? `trace lengths × ${spec.lengthScale ?? 1} (≤ ${spec.maxTokens})`
      : l.kind === 'uniform'
        ? `lengths uniform ${l.min}–${l.max}`
        : `lengths ${l.short[0]}–${l.short[1]}, ${(l.longShare * 100).toFixed(0)}% long ${l.long[0]}–${l.long[1]}`;
  const window = spec.window ? ` (its [${spec.window.startS}, ${spec.window.startS + spec.window.durationS}) s window)` : '';
  const arrivals = spec.arrivals === 'bursty' ? `bursty (Gamma, cv ${spec.cv ?? 4})` : spec.arrivals;
  return `${spec.requests} requests, ${arrivals} arrivals${window} at ${spec.rate} req/s, ${lengths}, seed ${spec.seed}`;
}
