// Options common to every engine, checked and given their defaults before anything starts.
import { availableBackends, type BackendName, defaultBackend } from '@asap/runtime';
import type { ModelConfig } from '../model/config/model-config.ts';
import { type PopularityOptions, expectedRoutingCounts } from '../ranks/expert-popularity.ts';
import { readModelConfig } from '../model/config/parse.ts';
import type { EngineOptions, ExpertPlacementOptions, HostName } from './engine.ts';
import { EngineConfigError } from '../errors.ts';

export interface CommonOptions {
  readonly modelDir: string;
  readonly config: ModelConfig;
  readonly backend: BackendName;
  readonly host: HostName;
  readonly kvBudgetBytes: number;
  readonly maxQueuedTokens: number;
  readonly maxWaiting: number;
  readonly spans: boolean;
  /** Numerics off: ranks carry shapes, routing from this popularity model. */
  readonly shapesOnly: PopularityOptions | undefined;
  /** Where experts go: the options' `experts`, with the popularity's history counts when asked for. */
  readonly experts: ExpertPlacementOptions;
}

export function positiveInteger(value: unknown, name: string, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new EngineConfigError(`${name} must be a positive integer, got ${String(value)}`);
  return v;
}

export async function commonOptions(options: EngineOptions): Promise<CommonOptions> {
  if (typeof options.model !== 'string' || options.model.length === 0) {
    throw new EngineConfigError('model must be the path of a checkpoint directory (config.json + safetensors)');
  }
  const backend = options.backend ?? defaultBackend();
  if (!availableBackends().includes(backend)) {
    throw new EngineConfigError(`unknown or unavailable backend "${String(backend)}" (available: ${availableBackends().join(', ')})`);
  }
  const host = options.host ?? 'threads';
  if (host !== 'threads' && host !== 'sim') throw new EngineConfigError(`host must be "threads" or "sim", got "${String(host)}"`);
  const config = await readModelConfig(options.model);
  if (options.fault?.kind === 'stall' && host === 'sim') {
    throw new EngineConfigError('an injected stall spins its thread: under the sim host that is every rank; use host "threads"');
  }
  let shapesOnly: PopularityOptions | undefined;
  let experts: ExpertPlacementOptions = options.experts ?? {};
  if (options.numerics === false) {
    if (host !== 'sim') throw new EngineConfigError('numerics: false (shapes only) runs on the sim host only: set host: "sim"');
    if (options.engine === 'reference') throw new EngineConfigError('the reference engine always computes: numerics: false needs sync or asap');
    const skew = options.popularity?.skew ?? 1;
    if (!(typeof skew === 'number' && Number.isFinite(skew) && skew >= 0)) throw new EngineConfigError(`popularity.skew must be a finite number >= 0, got ${String(skew)}`);
    shapesOnly = { skew, seed: options.popularity?.seed ?? options.sim?.seed ?? 1 };
    const history = options.popularity?.history ?? false;
    if (typeof history !== 'boolean') throw new EngineConfigError(`popularity.history must be true or false, got ${String(history)}`);
    if (history && !options.experts?.routingCounts) experts = { ...options.experts, routingCounts: expectedRoutingCounts(config, shapesOnly) };
  } else if (options.numerics !== undefined && options.numerics !== true) {
    throw new EngineConfigError(`numerics must be true or false, got ${String(options.numerics)}`);
  }
  return {
    modelDir: options.model,
    config,
    backend,
    host,
    kvBudgetBytes: positiveInteger(options.kvBudgetBytes, 'kvBudgetBytes', 256 << 20),
    maxQueuedTokens: positiveInteger(options.maxQueuedTokens, 'maxQueuedTokens', 1 << 20),
    maxWaiting: positiveInteger(options.maxWaiting, 'maxWaiting', 4096),
    spans: options.spans ?? true,
    shapesOnly,
    experts,
  };
}
