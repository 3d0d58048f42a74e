// Loads the CUDA addon (build/cuda/asap_cuda.node, built by scripts/build-cuda.mjs where nvcc exists) once per
// thread and asks it for a device, or says why there is none: the reason the build recorded when it skipped,
// the load error, or the probe's answer ('no CUDA driver', 'no device', a device older than sm_90). The CPU
// addon is a separate file: nothing here is loaded unless the cuda backend is asked about.
import { fileURLToPath } from 'node:url';
import { loadNativeAddon } from '../native/addon.ts';

type F32 = Float32Array;
type Weights = Float32Array | Uint16Array;
/** A weight-like operand: a host array (copied in for the call) or the handle of a resident device copy. */
export type DeviceOperand = Weights | number;

/** The addon's Context (native-cuda/src/addon.cc): one rank's stream, resident weights and staging. */
export interface CudaContext {
  readonly device: number;
  readonly deviceName: string;
  readonly budgetBytes: number;
  readonly usedBytes: number;
  upload(data: Weights): number;
  release(handle: number): void;
  matmul(x: F32, m: number, k: number, w: DeviceOperand, wType: number, n: number, bias: F32 | number | null, y: F32, parts: number): void;
  attention(
    q: F32, k: F32, v: F32, out: F32,
    queries: number, keys: number, numHeads: number, numKvHeads: number, headDim: number, scale: number, queryOffset: number,
    valueDim: number, tensorCores: boolean,
  ): void;
  rmsNorm(x: F32, w: DeviceOperand, wType: number, y: F32, slices: number, width: number, eps: number): void;
  rope(x: F32, y: F32, cos: F32, sin: F32, rows: number, numHeads: number, headDim: number, half: number): void;
  add(a: F32, b: F32, y: F32, n: number): void;
  scale(x: F32, y: F32, n: number, s: number): void;
  siluMul(gate: F32, up: F32, y: F32, n: number): void;
  gatherRows(x: DeviceOperand, xType: number, rows: number, cols: number, index: Int32Array, out: F32): void;
  scatterAddRows(dst: F32, rows: number, src: F32, cols: number, index: Int32Array, scale: F32 | null): void;
  routerTopK(logits: F32, rows: number, experts: number, topK: number, renormalize: boolean, ids: Int32Array, weights: F32): void;
  /** Milliseconds per matmul kernel on device-resident operands (no host copies), from CUDA events. */
  timeMatmul(m: number, k: number, n: number, wType: number, parts: number, iterations: number): number;
  /** Milliseconds per causal attention kernel over a `tokens` prompt (head width = value width = headDim). */
  timeAttention(tokens: number, numHeads: number, numKvHeads: number, headDim: number, iterations: number, tensorCores: boolean): number;
  dispose(): void;
}

export interface CudaDevice {
  readonly devices: number;
  readonly name: string;
  readonly computeCapability: string;
  readonly totalBytes: number;
}

export interface CudaAddon {
  readonly Context: new (device: number, budgetBytes: number) => CudaContext;
  /** Device 0, or why no kernel can run here. */
  probe(): CudaDevice | { readonly reason: string };
}

export type CudaLoad = { readonly addon: CudaAddon; readonly device: CudaDevice } | { readonly reason: string };

const ADDON_FILE = fileURLToPath(new URL('../../../build/cuda/asap_cuda.node', import.meta.url));
const REASON_FILE = fileURLToPath(new URL('../../../build/cuda/unavailable.txt', import.meta.url));

let state: CudaLoad | undefined;

/** Loads the addon at `addonFile` and probes for a device; else the build's recorded reason, the load error, or the probe's. */
export function loadCudaAddon(addonFile: string, reasonFile: string): CudaLoad {
  const loaded = loadNativeAddon(addonFile, reasonFile);
  if ('reason' in loaded) return { reason: loaded.reason };
  const addon = loaded.addon as unknown as CudaAddon;
  const device = addon.probe();
  return 'reason' in device ? { reason: device.reason } : { addon, device };
}

/** This build's CUDA addon and device (probed once per thread), or why there is none. */
export function cudaAddon(): CudaLoad {
  state ??= loadCudaAddon(ADDON_FILE, REASON_FILE);
  return state;
}

/** Why the cuda backend cannot run here ('no CUDA driver …', 'no device …', no nvcc at build time), or undefined. */
export function cudaUnavailableReason(): string | undefined {
  const loaded = cudaAddon();
  return 'reason' in loaded ? loaded.reason : undefined;
}
