// What the threads host spends besides kernels (message encoding, worker wake-ups, the rank code between
// ops) as a fixed cost per device op, and how much slower its kernels run inside the engine than alone (the
// other rank's thread, the other agents on this shared machine): the sim charges only device ops, so both
// are fitted end to end on requests run one at a time (no queueing to amplify noise), with the latency of a
// message between ranks. A lone request's sim TTFT is linear in all three (c + k × kernels + h × ops +
// latency × messages on its critical path), so four sim runs give each point's line; the (k, h, latency)
// minimising the squared log error against the threads host's TTFTs is the fit.
import type { HardwareProfile } from '@asap/runtime';
import { TWO_RANK_CONFIGS } from '../fidelity/configs.ts';
import { percentile } from '../metrics/percentile.ts';
import type { EngineSetup } from '../run/engines.ts';
import { withWarmEngines } from './warm-engines.ts';

export interface HostOverhead {
  /** Fitted fixed cost per device op, µs, on top of each op kind's kernel overhead. */
  readonly perOpUs: number;
  /** Fitted factor on the kernel times timed alone. */
  readonly kernelScale: number;
  /** Fitted one-way latency of a message between ranks, µs (the channel bench's small-message figure is the start). */
  readonly latencyUs: number;
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

/**
 * Median TTFT of each length per setup, prompts run one at a time after a warm-up. The setups' engines run
 * side by side and take turns, prompt by prompt, so a busy spell of the (shared) machine hits them alike.
 */
function loneTtfts(setups: readonly EngineSetup[], model: string, vocabSize: number, repeats: number): Promise<number[][]> {
  return withWarmEngines(setups, model, vocabSize, async (engines, prompt) => {
    const runs = engines.map(() => LENGTHS.map((): number[] => []));
    for (let i = 0; i < repeats; i++) {
      for (const [l, n] of LENGTHS.entries()) {
        for (const [e, engine] of engines.entries()) runs[e][l].push((await engine.prefill({ tokens: prompt(n) })).ttftMs);
      }
    }
    return runs.map((byLength) => byLength.map((r) => percentile(r, 0.5)));
  });
}

/** argmin over [lo, hi] of a unimodal f (golden section). */
export function minimise(f: (x: number) => number, lo: number, hi: number): number {
  const g = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 60; i++) {
    const a = hi - g * (hi - lo);
    const b = lo + g * (hi - lo);
    if (f(a) <= f(b)) hi = b;
    else lo = a;
  }
  return (lo + hi) / 2;
}

/** The same profile with a link latency of `us`. */
export function withLinkLatency(profile: HardwareProfile, us: number): HardwareProfile {
  return { ...profile, link: { ...profile.link, latencyUs: us } };
}

/** The threads host's lone-request TTFTs the fit matches: per configuration, per length of LENGTHS. */
export function measureLoneTtfts(model: string, vocabSize: number, quick: boolean): Promise<number[][]> {
  return loneTtfts(TWO_RANK_CONFIGS.map((c) => ({ ...c.setup, host: 'threads' })), model, vocabSize, quick ? 3 : 5);
}

/** `measured`: what measureLoneTtfts gave. */
export async function fitHostOverhead(kernels: HardwareProfile, model: string, vocabSize: number, measured: readonly (readonly number[])[]): Promise<HostOverhead> {
  const lines: { config: string; tokens: number; measured: number; c: number; kernel: number; ops: number; messages: number }[] = [];
  const latency0 = kernels.link.latencyUs;
  for (const [i, { name, setup }] of TWO_RANK_CONFIGS.entries()) {
    const sim = async (profile: HardwareProfile): Promise<number[]> => (await loneTtfts([{ ...setup, host: 'sim', profile }], model, vocabSize, 1))[0];
    const base = await sim(kernels);
    const doubled = await sim(withKernelScale(kernels, 2));
    const probed = await sim(withOverhead(kernels, PROBE_US));
    const later = await sim(withLinkLatency(kernels, latency0 + PROBE_US));
    LENGTHS.forEach((tokens, l) => {
      const kernel = doubled[l] - base[l];
      const messages = (later[l] - base[l]) / PROBE_US;
      lines.push({ config: name, tokens, measured: measured[i][l], c: base[l] - kernel - messages * latency0, kernel, ops: (probed[l] - base[l]) / PROBE_US, messages });
    });
  }
  type Line = (typeof lines)[number];
  const predict = (l: Line, k: number, us: number, latencyUs: number): number => l.c + k * l.kernel + l.ops * us + l.messages * latencyUs;
  const error = (k: number, us: number, latencyUs: number): number =>
    lines.reduce((sum, l) => sum + Math.log(Math.max(1e-6, predict(l, k, us, latencyUs)) / l.measured) ** 2, 0);
  // Nested one-dimensional searches: the best latency for (k, cost), the best cost for k, the best k.
  const bestLatency = (k: number, us: number): number => minimise((lat) => error(k, us, lat), 0, 10 * PROBE_US);
  const bestUs = (k: number): number => minimise((us) => error(k, us, bestLatency(k, us)), 0, 10 * PROBE_US);
  const kernelScale = minimise((k) => error(k, bestUs(k), bestLatency(k, bestUs(k))), 0.25, 4);
  const perOpUs = bestUs(kernelScale);
  const latencyUs = bestLatency(kernelScale, perOpUs);
  return {
    perOpUs,
    kernelScale,
    latencyUs,
    points: lines.map((l) => ({ config: l.config, tokens: l.tokens, measuredMs: l.measured, fittedMs: predict(l, kernelScale, perOpUs, latencyUs) })),
  };
}
