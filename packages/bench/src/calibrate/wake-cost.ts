// What a pause costs this machine. A request that arrives after the ranks sat idle runs slower than one
// right behind another (on this VM a short prompt took ≈ 10 ms more after 300–500 ms idle than back to
// back): caches go cold and idle cores go to other work. The lone-request fit times requests back to back,
// so without this term the sim under-predicts lightly loaded runs, and a fit under load put the missing
// milliseconds into the kernels, over-charging long prompts. The device's wake cost (see `WakeCost`) is
// fitted end to end: lone prompts after idle gaps on the threads host against the sim, which is linear in
// the cost for a given time constant, so two sim runs per candidate constant give each gap's line.
import type { Engine } from '@asap/actors';
import type { HardwareProfile, WakeCost } from '@asap/runtime';
import { TWO_RANK_CONFIGS } from '../fidelity/configs.ts';
import { percentile } from '../metrics/percentile.ts';
import type { EngineSetup } from '../run/engines.ts';
import { minimise } from './host-overhead.ts';
import { withWarmEngines } from './warm-engines.ts';

export interface WakeFit {
  readonly wake: WakeCost;
  /** Per configuration and idle gap: TTFT on the threads host (median of the runs) and the sim's with the fitted cost. */
  readonly points: readonly { readonly config: string; readonly gapMs: number; readonly measuredMs: number; readonly fittedMs: number }[];
}

/** Idle before the prompt, ms (0: right behind another prompt). */
const GAPS_MS = [0, 30, 100, 400];
export const WAKE_PROMPT_TOKENS = 64;
/** Time constants tried, ms. */
const TAUS_MS = [5, 10, 20, 40, 80, 160];
/** The wake cost of each line's second sim run, µs. */
const PROBE_US = 5000;

/** The same profile with this wake cost. */
export function withWake(profile: HardwareProfile, wake: WakeCost): HardwareProfile {
  return { ...profile, device: { ...profile.device, wake } };
}

function pause(engine: Engine, ms: number): Promise<void> {
  return new Promise((resolve) => engine.scheduler.schedule(() => resolve(), ms));
}

/**
 * Per setup, the median TTFT of a prompt after each idle gap. A gap of 0 times the second of two prompts
 * back to back: the first may follow the other setups' turn.
 */
function gapTtfts(setups: readonly EngineSetup[], model: string, vocabSize: number, repeats: number): Promise<number[][]> {
  return withWarmEngines(setups, model, vocabSize, async (engines, prompt) => {
    const tokens = prompt(WAKE_PROMPT_TOKENS);
    const runs = engines.map(() => GAPS_MS.map((): number[] => []));
    for (let i = 0; i < repeats; i++) {
      for (const [e, engine] of engines.entries()) {
        for (const [g, gap] of GAPS_MS.entries()) {
          if (gap > 0) await pause(engine, gap);
          else await engine.prefill({ tokens });
          runs[e][g].push((await engine.prefill({ tokens })).ttftMs);
        }
      }
    }
    return runs.map((byGap) => byGap.map((r) => percentile(r, 0.5)));
  });
}

/** The wake cost that brings the sim's TTFTs after idle gaps to the threads host's, on `profile`'s other figures. */
export async function fitWake(profile: HardwareProfile, model: string, vocabSize: number, quick: boolean): Promise<WakeFit> {
  const configs = TWO_RANK_CONFIGS;
  const measured = await gapTtfts(configs.map((c) => ({ ...c.setup, host: 'threads' })), model, vocabSize, quick ? 9 : 15);
  const sim = async (wake: WakeCost): Promise<number[][]> => gapTtfts(configs.map((c) => ({ ...c.setup, host: 'sim', profile: withWake(profile, wake) })), model, vocabSize, 1);
  let best: { error: number; wake: WakeCost; fitted: number[][] } | undefined;
  for (const tauMs of TAUS_MS) {
    const base = await sim({ us: 0, tauMs });
    const probed = await sim({ us: PROBE_US, tauMs });
    const predict = (us: number): number[][] => base.map((row, c) => row.map((b, g) => b + ((probed[c][g] - b) * us) / PROBE_US));
    const error = (us: number): number =>
      predict(us).reduce((sum, row, c) => row.reduce((s, p, g) => s + Math.log(Math.max(1e-6, p) / measured[c][g]) ** 2, sum), 0);
    const us = minimise(error, 0, 20 * PROBE_US);
    if (!best || error(us) < best.error) best = { error: error(us), wake: { us, tauMs }, fitted: predict(us) };
  }
  const fit = best as NonNullable<typeof best>;
  return {
    wake: fit.wake,
    points: configs.flatMap((c, i) => GAPS_MS.map((gapMs, g) => ({ config: c.name, gapMs, measuredMs: measured[i][g], fittedMs: fit.fitted[i][g] }))),
  };
}
