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
 * The ideal bound of a run: each role's kernel time spread perfectly over that role's ranks, communication
 * free, and the busiest role sets the pace (attention ranks cannot lend time to expert ranks). Prompt tokens/s
 * and requests/s the run's ranks would sustain if the busiest role computed all the time. One role (sync, or
 * asap colocated): the cluster's kernel time over all its ranks.
 */
export function idealBound(usage: readonly RankUsage[], tokens: number, requests: number): { readonly tokensPerS: number; readonly requestsPerS: number } {
  let makespanMs = 0;
  for (const ranks of byRole(usage).values()) makespanMs = Math.max(makespanMs, ranks.reduce((n, u) => n + u.computeMs, 0) / ranks.length);
  const makespanS = makespanMs / 1000;
  return makespanS > 0 ? { tokensPerS: tokens / makespanS, requestsPerS: requests / makespanS } : { tokensPerS: 0, requestsPerS: 0 };
}

/** Ranks grouped by role, the name without its index (`attn-3` → `attn`). */
function byRole(usage: readonly RankUsage[]): Map<string, RankUsage[]> {
  const roles = new Map<string, RankUsage[]>();
  for (const u of usage) {
    const role = u.rank.replace(/-\d+$/, '');
    const group = roles.get(role);
    if (group) group.push(u);
    else roles.set(role, [u]);
  }
  return roles;
}

/** One role's ranks over a run (attention, expert, or both roles on one rank): where the time went. */
export interface RoleUsage {
  readonly role: string;
  readonly ranks: number;
  /** Mean, least and most kernel time / window over the role's ranks. */
  readonly utilization: { readonly mean: number; readonly min: number; readonly max: number };
  /** Rows per expert call over the role's ranks (0: they ran no experts). */
  readonly rowsPerExpertCall: number;
}

/** Ranks grouped by role: what a per-rank table shows at a glance. */
export function roleUsage(usage: readonly RankUsage[]): RoleUsage[] {
  return [...byRole(usage)].map(([role, ranks]) => {
    let sum = 0;
    let min = Infinity;
    let max = 0;
    let calls = 0;
    let rows = 0;
    for (const u of ranks) {
      sum += u.utilization;
      min = Math.min(min, u.utilization);
      max = Math.max(max, u.utilization);
      calls += u.expertCalls;
      rows += u.expertRows;
    }
    return { role, ranks: ranks.length, utilization: { mean: sum / ranks.length, min, max }, rowsPerExpertCall: calls > 0 ? rows / calls : 0 };
  });
}
