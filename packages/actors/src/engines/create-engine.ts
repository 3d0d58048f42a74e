import type { Engine, EngineOptions } from './engine.ts';
import { ENGINE_NAMES } from './engine.ts';
import { EngineConfigError } from '../errors.ts';
import { startAsapEngine } from './asap.ts';
import { startReferenceEngine } from './reference.ts';
import { startSyncEngine } from './sync.ts';

/**
 * Starts an engine by name. Every option is checked (against the model's config too) before any worker
 * starts; a bad one is an EngineConfigError that names it.
 */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  if (typeof options !== 'object' || options === null) throw new EngineConfigError('options must be an object');
  switch (options.engine) {
    case 'reference':
      return startReferenceEngine(options);
    case 'sync':
      return startSyncEngine(options);
    case 'asap':
      return startAsapEngine(options);
    default:
      throw new EngineConfigError(`unknown engine "${String(options.engine)}" (engines: ${ENGINE_NAMES.join(', ')})`);
  }
}
