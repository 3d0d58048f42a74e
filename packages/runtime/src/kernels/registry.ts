import type { Backend, BackendName, BackendOptions } from './backend.ts';
import { KernelUnsupportedError } from '../errors.ts';
import { JsBackend } from './js/backend.ts';
import { WasmBackend } from './wasm/backend.ts';

type Factory = (options: BackendOptions) => Promise<Backend>;

const factories = new Map<BackendName, Factory>([
  ['js', async () => new JsBackend()],
  ['wasm', (options) => WasmBackend.create(options)],
]);

/** The backends this build can create. */
export function availableBackends(): BackendName[] {
  return [...factories.keys()];
}

/** Creates a backend by name. An unknown or unavailable backend is an error, never a silent substitute. */
export async function createBackend(name: BackendName, options: BackendOptions = {}): Promise<Backend> {
  const factory = factories.get(name);
  if (!factory) {
    throw new KernelUnsupportedError(
      `backend "${String(name)}" is not available in this build (available: ${availableBackends().join(', ')})`,
    );
  }
  return factory(options);
}
