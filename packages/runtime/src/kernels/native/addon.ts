// Loads the native addon (build/native/asap_native.node, built by scripts/build-native.mjs) once per thread,
// or says why it cannot: the reason the build recorded when it skipped, or the load error.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The instruction sets the addon has kernels for; it picks the best this CPU runs unless told. */
export type NativeIsa = 'avx512' | 'avx2' | 'generic';

type F32 = Float32Array;
type Weights = Float32Array | Uint16Array;

/** The addon's Context (native/src/addon.cc): every array is read or written in place. */
export interface NativeContext {
  readonly isa: NativeIsa;
  readonly threads: number;
  matmul(x: F32, m: number, k: number, w: Weights, wType: number, n: number, bias: F32 | null, y: F32): void;
  attention(
    q: F32, k: F32, v: F32, out: F32,
    queries: number, keys: number, numHeads: number, numKvHeads: number, headDim: number, scale: number, queryOffset: number,
    valueDim: number,
  ): void;
  rmsNorm(x: F32, w: Weights, wType: number, y: F32, slices: number, width: number, eps: number): void;
  rope(x: F32, y: F32, cos: F32, sin: F32, rows: number, numHeads: number, headDim: number, half: number): void;
  add(a: F32, b: F32, y: F32, n: number): void;
  scale(x: F32, y: F32, n: number, s: number): void;
  siluMul(gate: F32, up: F32, y: F32, n: number): void;
  gatherRows(x: Weights, xType: number, rows: number, cols: number, index: Int32Array, out: F32): void;
  scatterAddRows(dst: F32, rows: number, src: F32, cols: number, index: Int32Array, scale: F32 | null): void;
  routerTopK(logits: F32, rows: number, experts: number, topK: number, renormalize: boolean, ids: Int32Array, weights: F32): void;
  dispose(): void;
}

export interface NativeAddon {
  readonly Context: new (threads: number, isa?: NativeIsa) => NativeContext;
  /** The instruction sets this CPU can run, best first. */
  readonly isas: readonly NativeIsa[];
}

export type NativeLoad = { readonly addon: NativeAddon } | { readonly reason: string };

const ADDON_FILE = fileURLToPath(new URL('../../../build/native/asap_native.node', import.meta.url));
const REASON_FILE = fileURLToPath(new URL('../../../build/native/unavailable.txt', import.meta.url));

let state: NativeLoad | undefined;

/** Loads the addon at `addonFile`; if it will not load, the reason the build recorded in `reasonFile`, or the error. */
export function loadNativeAddon(addonFile: string, reasonFile: string): NativeLoad {
  try {
    return { addon: createRequire(import.meta.url)(addonFile) as NativeAddon };
  } catch (error) {
    let recorded: string | undefined;
    try {
      recorded = readFileSync(reasonFile, 'utf8').trim();
    } catch {
      recorded = undefined;
    }
    const why = recorded ?? `${addonFile} did not load (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
    return { reason: `${why}; build it with "pnpm --filter @asap/runtime build"` };
  }
}

/** This build's addon (loaded once per thread), or why it has none. */
export function nativeAddon(): NativeLoad {
  state ??= loadNativeAddon(ADDON_FILE, REASON_FILE);
  return state;
}
