import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { KernelUnsupportedError } from '../../errors.ts';
import { type CompiledModule, type SharedMemory, webAssembly } from './api.ts';

/** The functions of assembly/index.ts; every pointer is a byte offset into the shared memory. */
export interface KernelExports {
  heapBase(): number;
  matmulScratchBytes(m: number, n: number, k: number): number;
  matmulF32(x: number, w: number, bias: number, y: number, scratch: number, m: number, n: number, k: number): void;
  matmulBf16(x: number, w: number, bias: number, y: number, scratch: number, m: number, n: number, k: number): void;
  rmsNorm(x: number, w: number, y: number, slices: number, width: number, eps: number): void;
  rope(x: number, y: number, cos: number, sin: number, positions: number, rows: number, numHeads: number, headDim: number, half: number): void;
  add(a: number, b: number, y: number, n: number): void;
  scale(x: number, y: number, n: number, s: number): void;
  siluMul(gate: number, up: number, y: number, n: number): void;
  attentionScratchBytes(queries: number, numHeads: number, headDim: number): number;
  attention(
    q: number, k: number, v: number, out: number, scratch: number,
    queries: number, keys: number, numHeads: number, numKvHeads: number, headDim: number, valueDim: number, scale: number,
    queryOffset: number,
  ): void;
}

export type SimdMode = 'plain' | 'relaxed';

const files: Record<SimdMode, URL> = {
  plain: new URL('../../../build/kernels-simd.wasm', import.meta.url),
  relaxed: new URL('../../../build/kernels-relaxed.wasm', import.meta.url),
};

const compiled = new Map<SimdMode, CompiledModule>();
let relaxedProbe: boolean | undefined;

function bytesOf(mode: SimdMode): Uint8Array {
  try {
    return readFileSync(files[mode]);
  } catch (cause) {
    throw new KernelUnsupportedError(
      `wasm backend: ${files[mode].pathname} is missing; build it with "pnpm --filter @asap/runtime build" (${String(cause)})`,
    );
  }
}

/**
 * Whether this V8 runs relaxed SIMD. Node 20 needs --experimental-wasm-relaxed-simd, which NODE_OPTIONS
 * refuses, so the flag is set at run time (it must precede compiling the module).
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxedProbe === undefined) {
    const bytes = bytesOf('relaxed');
    let valid = webAssembly.validate(bytes);
    if (!valid) {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
      valid = webAssembly.validate(bytes);
    }
    relaxedProbe = valid;
  }
  return relaxedProbe;
}

/** The compiled module for a mode, compiled once per thread. */
export function kernelModule(mode: SimdMode): CompiledModule {
  let module = compiled.get(mode);
  if (!module) {
    if (mode === 'relaxed' && !relaxedSimdAvailable()) {
      throw new KernelUnsupportedError('wasm backend: relaxed SIMD was required but this V8 does not support it');
    }
    module = new webAssembly.Module(bytesOf(mode));
    compiled.set(mode, module);
  }
  return module;
}

export function instantiate(mode: SimdMode, memory: SharedMemory): KernelExports {
  const abort = (): never => {
    throw new Error('wasm backend: a kernel aborted');
  };
  const instance = new webAssembly.Instance(kernelModule(mode), { env: { memory, abort } });
  return instance.exports as unknown as KernelExports;
}
