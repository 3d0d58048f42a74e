// Ranks that compute at the same time share this machine's cores (with each other, the driver, and other
// programs), which lone requests never show: kernels run slower under load than the lone-request fit says.
// The sim has no shared cores, so the kernel-time factor is refitted on a loaded workload: the same requests
// on the threads host (measured) and on the sim, the factor bisected until the sim's median and p90 TTFT
// match on average (log ratio over the configurations). The workload is unlike the fidelity check's
// (Poisson arrivals, uniform lengths, another seed), so the check does not grade the fit on its own data.
import type { HardwareProfile } from '@asap/runtime';
import { FIDELITY_WARMUP, TWO_RANK_CONFIGS } from '../fidelity/configs.ts';
import { percentile } from '../metrics/percentile.ts';
import { runEngine } from '../run/run-engine.ts';
import { type WorkloadSpec, buildWorkload } from '../workload/spec.ts';

export interface LoadedScale {
  /** The kernel-time factor under load. */
  readonly kernelScale: number;
  /** Per configuration: threads-host TTFT p50/p90 (median of the runs) and the sim's at the fitted factor. */
  readonly runs: readonly { readonly config: string; readonly measured: readonly number[]; readonly fitted: readonly number[] }[];
}

function workload(maxTokens: number, quick: boolean): WorkloadSpec {
  return { arrivals: 'poisson', rate: 2, requests: quick ? 48 : 96, lengths: { kind: 'uniform', min: 16, max: 640 }, maxTokens, seed: 11 };
}

const BISECTIONS = 8;

/** `build(k)`: the profile with kernel-time factor k; the search spans [lo, hi]. */
export async function fitLoadedScale(build: (k: number) => HardwareProfile, lo: number, hi: number, model: string, vocabSize: number, maxTokens: number, quick: boolean): Promise<LoadedScale> {
  const requests = await buildWorkload(workload(maxTokens, quick));
  const options = { vocabSize, seed: 11, warmupLengths: FIDELITY_WARMUP };
  const configs = TWO_RANK_CONFIGS;
  const p50p90 = (records: readonly { ttftMs: number }[]): number[] => [0.5, 0.9].map((q) => percentile(records.map((r) => r.ttftMs), q));
  const runs = configs.map((): number[][] => []);
  for (let i = 0; i < (quick ? 1 : 2); i++) {
    for (const [c, { setup }] of configs.entries()) runs[c].push(p50p90((await runEngine({ ...setup, host: 'threads' }, model, requests, options)).records));
  }
  const measured = runs.map((r) => [0, 1].map((q) => percentile(r.map((x) => x[q]), 0.5)));
  const simulate = async (k: number): Promise<{ fitted: number[][]; logRatio: number }> => {
    const fitted: number[][] = [];
    for (const { setup } of configs) fitted.push(p50p90((await runEngine({ ...setup, host: 'sim', profile: build(k) }, model, requests, options)).records));
    const logRatio = fitted.reduce((sum, f, c) => sum + Math.log(f[0] / measured[c][0]) + Math.log(f[1] / measured[c][1]), 0);
    return { fitted, logRatio };
  };
  for (let i = 0; i < BISECTIONS; i++) {
    const mid = Math.sqrt(lo * hi);
    if ((await simulate(mid)).logRatio < 0) lo = mid;
    else hi = mid;
  }
  const kernelScale = Math.sqrt(lo * hi);
  const { fitted } = await simulate(kernelScale);
  return { kernelScale, runs: configs.map((c, i) => ({ config: c.name, measured: measured[i], fitted: fitted[i] })) };
}
