// The engines a comparison runs, each with the knobs its configuration search may turn. Adding an engine
// (asap) is one entry in COMPARED; `engineAvailable` reports one that createEngine does not know yet.
import { DEFAULT_EXPRESS_ROUND_TRIPS, EngineConfigError, type EngineOptions, type HostName, createEngine } from '@asap/actors';
import { type BackendName, type HardwareProfile, defaultBackend, simCosts } from '@asap/runtime';
import { resolveProfile } from '../calibrate/local-profile.ts';
import type { RunSummary } from '../metrics/summary.ts';
import { type ShapesOnly, shapesOnlyOptions } from './cluster.ts';

export type ComparedName = 'sync' | 'asap';
/** How wide a configuration search is: `none` runs each engine at its defaults. */
export type SearchLevel = 'none' | 'quick' | 'full';
export type Knobs = Readonly<Record<string, number | boolean | string>>;

export interface EngineSetup {
  readonly engine: ComparedName | 'reference';
  readonly host: HostName;
  /** Ranks (cores) the engine may use, split as its knobs say. */
  readonly ranks: number;
  readonly knobs: Knobs;
  /** The compute backend; the fastest available here when absent. */
  readonly backend?: BackendName;
  /** Sim host: the hardware profile it charges (a built-in, `local`, a JSON file, or one as data); absent: the sim's defaults. */
  readonly profile?: string | HardwareProfile;
  /** Sim host, numerics off: ranks carry a large model's shapes (its config.json alone) instead of values. */
  readonly shapesOnly?: ShapesOnly;
}

export interface EngineFamily {
  readonly name: ComparedName;
  /** The configuration it runs without a search. */
  readonly defaults: Knobs;
  /** What the configuration search tries: `quick` for the demo, `full` for sweeps. */
  readonly candidates: (ranks: number, level: Exclude<SearchLevel, 'none'>) => Knobs[];
  readonly options: (ranks: number, knobs: Knobs) => Omit<EngineOptions, 'model' | 'host' | 'backend'>;
  /** Boolean knobs (optimizations) a sweep switches off one at a time for the ablation chart. */
  readonly ablation?: readonly string[];
  /**
   * Configurations beyond the grid, from the runs at the goodput the search is contesting (best first): what
   * the load measured there suggests (asap at cluster scale: the attention/expert split that balances it).
   */
  readonly refine?: (ranks: number, measured: ReadonlyArray<{ readonly knobs: Knobs; readonly summary: RunSummary }>) => Knobs[];
}

/** Every combination of the given values. */
export function grid(axes: Record<string, ReadonlyArray<number | boolean | string>>): Knobs[] {
  return Object.entries(axes).reduce<Knobs[]>((acc, [key, values]) => acc.flatMap((k) => values.map((v) => ({ ...k, [key]: v }))), [{}]);
}

export const SYNC: EngineFamily = {
  name: 'sync',
  defaults: { tokenBudget: 512, twoBatchOverlap: true, loadAwarePlacement: true },
  candidates: (_ranks, level) =>
    level === 'full'
      ? grid({ tokenBudget: [128, 256, 512, 1024], twoBatchOverlap: [true, false], loadAwarePlacement: [true, false] })
      : grid({ tokenBudget: [128, 512, 1024], twoBatchOverlap: [true], loadAwarePlacement: [true] }),
  options: (ranks, k) => ({
    engine: 'sync',
    ranks,
    sync: { tokenBudget: k.tokenBudget as number, twoBatchOverlap: k.twoBatchOverlap as boolean, loadAwarePlacement: k.loadAwarePlacement as boolean },
  }),
};

/**
 * ASAP at the same core count: disaggregated (an attention/expert split) or colocated (every rank both), with
 * its micro-batching and its four optimizations, each a knob so the ablation can switch it off.
 */
export const ASAP: EngineFamily = {
  name: 'asap',
  defaults: {
    placement: 'disaggregated',
    attentionRanks: 1,
    expertRanks: 1,
    microBatchTokens: 256,
    microBatches: 2,
    loadAwarePlacement: true,
    microBatchPipelining: true,
    expertBatching: true,
    expertLoadBalancing: true,
    batchWaitMs: 0,
    convoyWaitMs: 0,
    groupLayers: false,
    expressRoundTrips: DEFAULT_EXPRESS_ROUND_TRIPS,
  },
  candidates: (ranks, level) => {
    const on = { loadAwarePlacement: true, microBatchPipelining: true, expertBatching: true, expertLoadBalancing: true };
    const splits: Knobs[] = Array.from({ length: Math.max(1, ranks - 1) }, (_, i) => ({ placement: 'disaggregated', attentionRanks: i + 1, expertRanks: Math.max(1, ranks - i - 1) }));
    const layouts = [...splits, { placement: 'colocated', attentionRanks: ranks, expertRanks: ranks }];
    const batching = level === 'full' ? grid({ microBatchTokens: [128, 256, 512], microBatches: [2, 3] }) : grid({ microBatchTokens: [128, 512], microBatches: [2] });
    return layouts.flatMap((layout) => batching.map((b) => ({ ...layout, ...b, ...on })));
  },
  options: (ranks, k) => {
    const asap = {
      placement: k.placement as 'disaggregated' | 'colocated',
      microBatchTokens: k.microBatchTokens as number,
      microBatches: k.microBatches as number,
      loadAwarePlacement: k.loadAwarePlacement as boolean,
      microBatchPipelining: k.microBatchPipelining as boolean,
      expertBatching: k.expertBatching as boolean,
      expertLoadBalancing: k.expertLoadBalancing as boolean,
      batchWaitMs: (k.batchWaitMs ?? 0) as number,
      convoyWaitMs: (k.convoyWaitMs ?? 0) as number,
      groupLayers: (k.groupLayers ?? false) as boolean,
      expressRoundTrips: k.expressRoundTrips as number | undefined,
    };
    return k.placement === 'colocated'
      ? { engine: 'asap', ranks, asap }
      : { engine: 'asap', attentionRanks: k.attentionRanks as number, expertRanks: k.expertRanks as number, asap };
  },
  ablation: ['loadAwarePlacement', 'microBatchPipelining', 'expertBatching', 'expertLoadBalancing'],
};

/** A family's defaults with `overrides` on top; a knob the family does not have is an error, not silently ignored. */
export function withKnobs(f: EngineFamily, overrides: Knobs): Knobs {
  for (const key of Object.keys(overrides)) {
    if (!(key in f.defaults)) throw new Error(`--knobs: "${key}" is not a knob of ${f.name} (its knobs: ${Object.keys(f.defaults).join(', ')})`);
  }
  return { ...f.defaults, ...overrides };
}

export const COMPARED: readonly EngineFamily[] = [SYNC, ASAP];

export function family(name: ComparedName): EngineFamily {
  const f = COMPARED.find((e) => e.name === name);
  if (!f) throw new Error(`unknown engine "${name}" (engines: ${COMPARED.map((e) => e.name).join(', ')})`);
  return f;
}

export function engineOptions(setup: EngineSetup, model: string, spans: boolean, seed = 1): EngineOptions {
  const sim =
    setup.host === 'sim' && setup.profile !== undefined ? { sim: { ...simCosts(typeof setup.profile === 'string' ? resolveProfile(setup.profile) : setup.profile), seed } } : {};
  const shapes = setup.host === 'sim' && setup.shapesOnly ? shapesOnlyOptions(setup.shapesOnly, seed) : {};
  const base = { model, host: setup.host, backend: setup.backend ?? defaultBackend(), spans, ...sim, ...shapes };
  return setup.engine === 'reference' ? { ...base, engine: 'reference' } : { ...base, ...family(setup.engine).options(setup.ranks, setup.knobs) };
}

/** Whether createEngine knows the engine: an unknown one fails its name check before anything is read. */
export async function engineAvailable(name: ComparedName): Promise<boolean> {
  try {
    const engine = await createEngine({ engine: name, model: '' });
    await engine.close();
    return true;
  } catch (error) {
    return !(error instanceof EngineConfigError && /unknown engine/.test(error.message));
  }
}

export function describeSetup(setup: EngineSetup): string {
  const knobs = Object.entries(setup.knobs).map(([k, v]) => `${k} ${v}`);
  const profile = setup.host === 'sim' && setup.profile !== undefined ? ` (${typeof setup.profile === 'string' ? setup.profile : setup.profile.name} profile)` : '';
  const compute = setup.shapesOnly ? 'numerics off' : (setup.backend ?? defaultBackend());
  return `${setup.engine} (${setup.ranks} rank${setup.ranks === 1 ? '' : 's'} on ${setup.host}${profile}, ${compute}${knobs.length ? `; ${knobs.join(', ')}` : ''})`;
}
