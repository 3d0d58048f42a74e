// The wasm kernels. Pointers are byte offsets into the imported shared memory; the TypeScript side
// (src/kernels/wasm) places operands there and calls these.
export { matmulF32, matmulBf16, matmulScratchBytes } from './matmul';
export { rmsNorm, rope } from './norm';
export { add, scale, siluMul } from './elementwise';
export { attention, attentionScratchBytes } from './attention';

/** End of this module's static data: the host must not place tensors below it. */
export function heapBase(): usize {
  return __heap_base;
}
