// Options common to every engine, checked and given their defaults before anything starts.
import { availableBackends, type BackendName } from '@asap/runtime';
import type { ModelConfig } from '../model/config/model-config.ts';
import { readModelConfig } from '../model/config/parse.ts';
import type { EngineOptions, HostName } from './engine.ts';
import { EngineConfigError } from './errors.ts';

export interface CommonOptions {
  readonly modelDir: string;
  readonly config: ModelConfig;
  readonly backend: BackendName;
  readonly host: HostName;
  readonly kvBudgetBytes: number;
  readonly maxQueuedTokens: number;
  readonly maxWaiting: number;
  readonly spans: boolean;
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
  const backend = options.backend ?? 'wasm';
  if (!availableBackends().includes(backend)) {
    throw new EngineConfigError(`unknown or unavailable backend "${String(backend)}" (available: ${availableBackends().join(', ')})`);
  }
  const host = options.host ?? 'threads';
  if (host !== 'threads' && host !== 'sim') throw new EngineConfigError(`host must be "threads" or "sim", got "${String(host)}"`);
  const config = await readModelConfig(options.model);
  return {
    modelDir: options.model,
    config,
    backend,
    host,
    kvBudgetBytes: positiveInteger(options.kvBudgetBytes, 'kvBudgetBytes', 256 << 20),
    maxQueuedTokens: positiveInteger(options.maxQueuedTokens, 'maxQueuedTokens', 1 << 20),
    maxWaiting: positiveInteger(options.maxWaiting, 'maxWaiting', 4096),
    spans: options.spans ?? true,
  };
}
