// Option values shared by the comparison commands, checked with errors that name the flag and the value.
import { resolve } from 'node:path';
import type { WorkloadSpec } from '../workload/spec.ts';

export function positiveNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !(n > 0) || !Number.isFinite(n)) throw new Error(`--${flag} must be a positive number, got "${value}"`);
  return n;
}

export function positiveInteger(flag: string, value: string | undefined, fallback: number): number {
  const n = positiveNumber(flag, value, fallback);
  if (!Number.isSafeInteger(n)) throw new Error(`--${flag} must be a positive integer, got "${value}"`);
  return n;
}

export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`--${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** A path given on the command line, relative to where the user ran `pnpm` (INIT_CWD), not to the package. */
export function userPath(path: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), path);
}

export const WORKLOAD_USAGE = `workload options:
  --workload poisson|bursty|FILE.csv   arrivals (FILE: a TIMESTAMP,ContextTokens,GeneratedTokens trace, time-scaled to --rate)
  --rate R          mean requests/s
  --requests N      how many requests (a trace is sampled down to N, seeded)
  --seed S          seeds arrivals, lengths and prompts
  --cv X            bursty: coefficient of variation of the gaps (default 4)
  --window S,D      trace: only its requests in [S, S+D) seconds
  --lengths trace|MIN-MAX   prompt lengths: the (scaled) conversation trace's, or uniform (default trace)
  --length-scale F  trace lengths × F, clamped to the model's context (default 0.25)`;

/** What every command that runs engines takes besides the workload. */
export const ENGINE_RUN_OPTIONS = {
  host: { type: 'string' },
  ranks: { type: 'string' },
  model: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export const WORKLOAD_OPTIONS = {
  workload: { type: 'string' },
  rate: { type: 'string' },
  requests: { type: 'string' },
  seed: { type: 'string' },
  cv: { type: 'string' },
  window: { type: 'string' },
  lengths: { type: 'string' },
  'length-scale': { type: 'string' },
} as const;

export interface WorkloadValues {
  readonly workload?: string;
  readonly rate?: string;
  readonly requests?: string;
  readonly seed?: string;
  readonly cv?: string;
  readonly window?: string;
  readonly lengths?: string;
  readonly 'length-scale'?: string;
}

export function workloadSpec(v: WorkloadValues, maxTokens: number, defaults: { rate: number; requests: number; workload: string }): WorkloadSpec {
  const kind = v.workload ?? defaults.workload;
  const seed = v.seed === undefined ? 1 : Number(v.seed);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got "${v.seed}"`);
  let window: WorkloadSpec['window'];
  if (v.window !== undefined) {
    const m = /^(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)$/.exec(v.window);
    if (!m || !(Number(m[2]) > 0)) throw new Error(`--window must be START,DURATION in seconds (duration > 0), got "${v.window}"`);
    window = { startS: Number(m[1]), durationS: Number(m[2]) };
  }
  let lengths: WorkloadSpec['lengths'];
  if (v.lengths !== undefined && v.lengths !== 'trace') {
    const m = /^(\d+)-(\d+)$/.exec(v.lengths);
    if (!m || Number(m[1]) < 1 || Number(m[2]) < Number(m[1])) throw new Error(`--lengths must be "trace" or MIN-MAX (1 <= MIN <= MAX), got "${v.lengths}"`);
    lengths = { kind: 'uniform', min: Number(m[1]), max: Math.min(maxTokens, Number(m[2])) };
  }
  const trace = kind === 'poisson' || kind === 'bursty' ? undefined : userPath(kind);
  return {
    arrivals: trace ? 'trace' : (kind as 'poisson' | 'bursty'),
    trace,
    rate: positiveNumber('rate', v.rate, defaults.rate),
    requests: positiveInteger('requests', v.requests, defaults.requests),
    cv: kind === 'bursty' ? positiveNumber('cv', v.cv, 4) : undefined,
    window,
    lengths,
    lengthScale: positiveNumber('length-scale', v['length-scale'], 0.25),
    maxTokens,
    seed,
  };
}
