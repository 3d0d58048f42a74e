import type { Backend, BackendName, BackendOptions } from './backend.ts';
import { KernelUnsupportedError } from '../errors.ts';
import { JsBackend } from './js/backend.ts';
import { cudaUnavailableReason } from './cuda/addon.ts';
import { CudaBackend } from './cuda/backend.ts';
import { nativeAddon } from './native/addon.ts';
import { NativeBackend } from './native/backend.ts';
import { WasmBackend } from './wasm/backend.ts';

type Factory = (options: BackendOptions) => Promise<Backend>;

const factories = new Map<BackendName, Factory>([
  ['js', async () => new JsBackend()],
  ['wasm', (options) => WasmBackend.create(options)],
  ['native', (options) => NativeBackend.create(options)],
  ['cuda', (options) => CudaBackend.create(options)],
]);

/** Why a backend cannot be created here, or undefined when it can. */
function unavailableReason(name: BackendName): string | undefined {
  if (name === 'cuda') return cudaUnavailableReason();
  if (name !== 'native') return undefined;
  const loaded = nativeAddon();
  return 'reason' in loaded ? loaded.reason : undefined;
}

/** The backends this build can create on this machine. */
export function availableBackends(): BackendName[] {
  return [...factories.keys()].filter((name) => unavailableReason(name) === undefined);
}

/** The backends this build knows but cannot create here, each with the reason (e.g. native without a C++ toolchain). */
export function unavailableBackends(): Array<{ readonly name: BackendName; readonly reason: string }> {
  return [...factories.keys()].flatMap((name) => {
    const reason = unavailableReason(name);
    return reason === undefined ? [] : [{ name, reason }];
  });
}

/**
 * Fastest first: the default is the first of these that is available. cuda is never a default, even where
 * a GPU is present: its synchronous ops copy activations over PCIe per call, which the small default
 * model does not amortise; a user asks for it by name.
 */
const SPEED_ORDER: readonly BackendName[] = ['native', 'wasm', 'js'];

/** The fastest backend available on this machine: what a user gets without asking. */
export function defaultBackend(): BackendName {
  const available = availableBackends();
  return SPEED_ORDER.find((name) => available.includes(name)) ?? 'js';
}

/** Creates a backend by name. An unknown or unavailable backend is an error, never a silent substitute. */
export async function createBackend(name: BackendName, options: BackendOptions = {}): Promise<Backend> {
  const factory = factories.get(name);
  const reason = factory ? unavailableReason(name) : undefined;
  if (reason !== undefined) throw new KernelUnsupportedError(`${name} backend unavailable: ${reason}`);
  if (!factory) {
    throw new KernelUnsupportedError(
      `backend "${String(name)}" is not available in this build (available: ${availableBackends().join(', ')})`,
    );
  }
  return factory(options);
}
