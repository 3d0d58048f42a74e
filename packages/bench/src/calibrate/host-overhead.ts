// What the threads host spends besides kernels (message encoding, worker wake-ups, the rank code between
// ops) as a fixed cost per device op, and how much slower its kernels run inside the engine than alone (the
// other rank's thread, the other agents on this shared machine): the sim charges only device ops, so both
// are fitted end to end on requests run one at a time (no queueing to amplify noise). A lone request's sim
// TTFT is linear in both (c + k × kernels + h × ops on its critical path), so three sim runs give each
// point's line; the (k, h) minimising the squared log error against the threads host's TTFTs is the fit.
import { createEngine } from '@asap/actors';
import type { HardwareProfile } from '@asap/runtime';
import { FIDELITY_CONFIGS, FIDELITY_WARMUP } from '../fidelity/configs.ts';
import { percentile } from '../metrics/percentile.ts';
import { type EngineSetup, engineOptions } from '../run/engines.ts';
import { promptIds } from '../workload/request.ts';

export interface HostOverhead {
  /** Fitted fixed cost per device op, µs, on top of each op kind's kernel overhead. */
  readonly perOpUs: number;
  /** Fitted factor on the kernel times timed alone. */
  readonly kernelScale: number;
  /** Per configuration and prompt length: TTFT on the threads host (median of the runs) and the sim's with the fitted cost. */
  readonly points: readonly { readonly config: string; readonly tokens: number; readonly measuredMs: number; readonly fittedMs: number }[];
}

/** The same profile with `us` more fixed cost on every op. */
export function withOverhead(profile: HardwareProfile, us: number): HardwareProfile {
  const d = profile.device;
  const ops = Object.fromEntries(Object.entries(d.ops ?? {}).map(([name, o]) => [name, { ...o, overheadUs: (o.overheadUs ?? d.overheadUs) + us }]));
  return { ...profile, device: { ...d, overheadUs: d.overheadUs + us, ops } };
}

/** The same profile with every kernel time (rates and kernel overheads) `k` times as long. */
export function withKernelScale(profile: HardwareProfile, k: number): HardwareProfile {
  const d = profile.device;
  const ops = Object.fromEntries(Object.entries(d.ops ?? {}).map(([name, o]) => [name, { ...o, overheadUs: (o.overheadUs ?? d.overheadUs) * k }]));
  return { ...profile, device: { ...d, peakFlopsPerS: d.peakFlopsPerS / k, memoryBytesPerS: d.memoryBytesPerS / k, overheadUs: d.overheadUs * k, ops } };
}

const LENGTHS = [16, 64, 256, 768];
/** A probe cost for the second sim run of each line, µs. */
const PROBE_US = 1000;

/** Median TTFT of each length, prompts run one at a time after a warm-up. */
async function loneTtfts(setup: EngineSetup, model: string, vocabSize: number, repeats: number): Promise<number[]> {
  const engine = await createEngine(engineOptions(setup, model, false));
  try {
    const prompt = (n: number) => promptIds({ id: -1, arrivalMs: 0, promptTokens: n }, vocabSize, 11);
    for (const n of FIDELITY_WARMUP) await engine.prefill({ tokens: prompt(n) });
    const ttfts: number[] = [];
    for (const n of LENGTHS) {
      const runs: number[] = [];
      for (let i = 0; i < repeats; i++) runs.push((await engine.prefill({ tokens: prompt(n) })).ttftMs);
      ttfts.push(percentile(runs, 0.5));
    }
    return ttfts;
  } finally {
    await engine.close();
  }
}

/** argmin over [lo, hi] of a unimodal f (golden section). */
function minimise(f: (x: number) => number, lo: number, hi: number): number {
  const g = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 60; i++) {
    const a = hi - g * (hi - lo);
    const b = lo + g * (hi - lo);
    if (f(a) <= f(b)) hi = b;
    else lo = a;
  }
  return (lo + hi) / 2;
}

export async function fitHostOverhead(kernels: HardwareProfile, model: string, vocabSize: number, quick: boolean): Promise<HostOverhead> {
  const lines: { config: string; tokens: number; measured: number; c: number; kernel: number; ops: number }[] = [];
  for (const { name, setup } of FIDELITY_CONFIGS.filter((c) => c.setup.ranks <= 2)) {
    const measured = await loneTtfts({ ...setup, host: 'threads' }, model, vocabSize, quick ? 3 : 5);
    const sim = (profile: HardwareProfile): Promise<number[]> => loneTtfts({ ...setup, host: 'sim', profile }, model, vocabSize, 1);
    const base = await sim(kernels);
    const doubled = await sim(withKernelScale(kernels, 2));
    const probed = await sim(withOverhead(kernels, PROBE_US));
    LENGTHS.forEach((tokens, i) => {
      const kernel = doubled[i] - base[i];
      lines.push({ config: name, tokens, measured: measured[i], c: base[i] - kernel, kernel, ops: (probed[i] - base[i]) / PROBE_US });
    });
  }
  const predict = (l: (typeof lines)[number], k: number, us: number): number => l.c + k * l.kernel + l.ops * us;
  const error = (k: number, us: number): number => lines.reduce((sum, l) => sum + Math.log(Math.max(1e-6, predict(l, k, us)) / l.measured) ** 2, 0);
  const bestUs = (k: number): number => minimise((us) => error(k, us), 0, 10 * PROBE_US);
  const kernelScale = minimise((k) => error(k, bestUs(k)), 0.25, 4);
  const perOpUs = bestUs(kernelScale);
  return {
    perOpUs,
    kernelScale,
    points: lines.map((l) => ({ config: l.config, tokens: l.tokens, measuredMs: l.measured, fittedMs: predict(l, kernelScale, perOpUs) })),
  };
}
