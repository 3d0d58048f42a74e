// The engine configurations this 2-core machine runs on the threads host, for calibrating and checking the
// sim host against it.
import { ASAP, type EngineSetup, SYNC } from '../run/engines.ts';

/** A configuration this 2-core machine runs with the threads host. */
export interface FidelityConfig {
  readonly name: string;
  readonly setup: Omit<EngineSetup, 'host' | 'profile'>;
}

export const FIDELITY_CONFIGS: readonly FidelityConfig[] = [
  { name: 'sync-2', setup: { engine: 'sync', ranks: 2, knobs: SYNC.defaults } },
  { name: 'asap-1+1', setup: { engine: 'asap', ranks: 2, knobs: { ...ASAP.defaults, attentionRanks: 1, expertRanks: 1 } } },
  { name: 'asap-2+2', setup: { engine: 'asap', ranks: 4, knobs: { ...ASAP.defaults, attentionRanks: 2, expertRanks: 2 } } },
];

/** The configurations the calibration fits on: one core per rank on this 2-core machine. */
export const TWO_RANK_CONFIGS: readonly FidelityConfig[] = FIDELITY_CONFIGS.filter((c) => c.setup.ranks <= 2);

/** Prompt lengths run before the figures start, twice over: every kernel size and arena page touched once. */
export const FIDELITY_WARMUP: readonly number[] = [8, 64, 256, 1024, 8, 64, 256, 1024];
