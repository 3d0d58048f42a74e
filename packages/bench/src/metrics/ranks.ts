// Per-rank time over one run: the difference of two stats() snapshots, split into kernel time, barrier
// waits, queue waits and idle time, as shares of the run's window.
import type { RankReport } from '@asap/actors';

export interface RankUsage {
  readonly rank: string;
  readonly tokens: number;
  readonly computeMs: number;
  readonly barrierWaitMs: number;
  readonly queueWaitMs: number;
  readonly idleMs: number;
  /** computeMs / window. */
  readonly utilization: number;
  /** Kernel time / the time the rank's thread ran code: how much of the rank's busy time is inside kernels. */
  readonly kernelShare: number;
  readonly expertCalls: number;
  readonly expertRows: number;
}

export function rankUsage(before: readonly RankReport[], after: readonly RankReport[], windowMs: number): RankUsage[] {
  return after.map((a) => {
    const b = before.find((r) => r.rank === a.rank);
    const d = (k: 'tokens' | 'computeMs' | 'activeMs' | 'barrierWaitMs' | 'queueWaitMs' | 'idleMs' | 'expertCalls' | 'expertRows'): number =>
      a[k] - (b?.[k] ?? 0);
    const computeMs = d('computeMs');
    const busy = d('activeMs');
    return {
      rank: a.rank,
      tokens: d('tokens'),
      computeMs,
      barrierWaitMs: d('barrierWaitMs'),
      queueWaitMs: d('queueWaitMs'),
      idleMs: d('idleMs'),
      utilization: windowMs > 0 ? Math.min(1, computeMs / windowMs) : 0,
      kernelShare: busy > 0 ? Math.min(1, computeMs / busy) : 0,
      expertCalls: d('expertCalls'),
      expertRows: d('expertRows'),
    };
  });
}

/**
 * The ideal bound of a run: its kernel time spread perfectly over its ranks, communication free. Prompt
 * tokens/s and requests/s the ranks would sustain if every one of them computed all the time.
 */
export function idealBound(usage: readonly RankUsage[], tokens: number, requests: number): { readonly tokensPerS: number; readonly requestsPerS: number } {
  const computeMs = usage.reduce((n, u) => n + u.computeMs, 0);
  const makespanS = computeMs / usage.length / 1000;
  return makespanS > 0 ? { tokensPerS: tokens / makespanS, requestsPerS: requests / makespanS } : { tokensPerS: 0, requestsPerS: 0 };
}
