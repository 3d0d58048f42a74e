/** A cache line: the alignment of arena blocks, ring records and wasm scratch; also satisfies every SIMD and dtype alignment. */
export const CACHE_LINE = 64;

/** `n` rounded up to a multiple of `multiple` (a cache line unless told). */
export function roundUp(n: number, multiple: number = CACHE_LINE): number {
  return Math.ceil(n / multiple) * multiple;
}
