// Fidelity of the sim host: the same requests on the threads host (measured, repeated: the machine is shared
// and noisy) and on the sim host charging a hardware profile (predicted, deterministic), TTFT side by side.
import { percentile } from '../metrics/percentile.ts';
import type { EngineSetup } from '../run/engines.ts';
import { FIDELITY_WARMUP, type FidelityConfig } from './configs.ts';
import { runEngine } from '../run/run-engine.ts';
import type { WorkloadRequest } from '../workload/request.ts';

export interface TtftFigures {
  readonly p50: number;
  readonly p90: number;
}

export interface FidelityResult {
  readonly config: string;
  /** Each threads-host run's figures, in run order. */
  readonly measuredRuns: readonly TtftFigures[];
  /** The median over the runs of each figure. */
  readonly measured: TtftFigures;
  readonly predicted: TtftFigures;
  /** predicted / measured − 1. */
  readonly error: TtftFigures;
}

function ttft(records: readonly { ttftMs: number }[]): TtftFigures {
  const values = records.map((r) => r.ttftMs);
  return { p50: percentile(values, 0.5), p90: percentile(values, 0.9) };
}

function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

export interface FidelityOptions {
  readonly model: string;
  readonly vocabSize: number;
  readonly seed: number;
  readonly profile: string;
  /** Threads-host runs per configuration. */
  readonly repeats: number;
  readonly onRun?: (config: string, host: 'threads' | 'sim', figures: TtftFigures) => void;
}

/**
 * Each configuration once on the sim host, then on the threads host `repeats` times, the configurations
 * taking turns run by run so a busy spell of the (shared) machine hits them alike.
 */
export async function measureFidelity(configs: readonly FidelityConfig[], requests: readonly WorkloadRequest[], o: FidelityOptions): Promise<FidelityResult[]> {
  const run = async (config: FidelityConfig, host: 'threads' | 'sim'): Promise<TtftFigures> => {
    const setup: EngineSetup = { ...config.setup, host, ...(host === 'sim' && { profile: o.profile }) };
    const figures = ttft((await runEngine(setup, o.model, requests, { vocabSize: o.vocabSize, seed: o.seed, warmupLengths: FIDELITY_WARMUP })).records);
    o.onRun?.(config.name, host, figures);
    return figures;
  };
  const predicted: TtftFigures[] = [];
  for (const config of configs) predicted.push(await run(config, 'sim'));
  const measuredRuns: TtftFigures[][] = configs.map(() => []);
  for (let i = 0; i < o.repeats; i++) {
    for (const [c, config] of configs.entries()) measuredRuns[c].push(await run(config, 'threads'));
  }
  return configs.map((config, c) => {
    const runs = measuredRuns[c];
    const measured = { p50: median(runs.map((r) => r.p50)), p90: median(runs.map((r) => r.p90)) };
    const p = predicted[c];
    return { config: config.name, measuredRuns: runs, measured, predicted: p, error: { p50: p.p50 / measured.p50 - 1, p90: p.p90 / measured.p90 - 1 } };
  });
}
