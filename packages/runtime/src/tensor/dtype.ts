/** Element types. f32 is the compute type; bf16 and f16 are storage types, converted exactly. */
export type DType = 'f32' | 'bf16' | 'f16';

/** Every dtype, in a fixed order: channel records carry a dtype as its index here, so only append. */
export const DTYPES: readonly DType[] = ['f32', 'bf16', 'f16'];

export function bytesPerElement(dtype: DType): number {
  return dtype === 'f32' ? 4 : 2;
}

export function isDType(value: unknown): value is DType {
  return value === 'f32' || value === 'bf16' || value === 'f16';
}

// One scratch word shared by the scalar conversions: reinterpreting through a typed array is the
// only exact way to reach an f32's bits in JavaScript.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** bf16 bits → f32 value. Exact: a bf16 is the top half of an f32. */
export function bf16ToF32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0];
}

/** f32 value → bf16 bits, rounding to nearest even; NaN stays NaN (quiet), infinities stay. */
export function f32ToBf16(value: number): number {
  scratchF32[0] = value;
  const bits = scratchU32[0];
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0) {
    return ((bits >>> 16) | 0x0040) & 0xffff;
  }
  const lsb = (bits >>> 16) & 1;
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
}

/** f16 bits → f32 value. Exact for every f16, subnormals included. */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** f32 value → f16 bits, rounding to nearest even; overflow goes to infinity. */
export function f32ToF16(value: number): number {
  scratchF32[0] = value;
  const bits = scratchU32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const unbiased = exponent - 127;
  if (unbiased > 15) return sign | 0x7c00;
  if (unbiased >= -14) {
    // Normal f16: keep 10 mantissa bits, round to nearest even on the 13 dropped.
    let half = ((unbiased + 15) << 10) | (mantissa >>> 13);
    const rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half += 1; // may carry into the exponent: correct
    return sign | half;
  }
  if (unbiased < -25) return sign;
  // Subnormal f16: shift the full significand (implicit 1 included) into place, round to nearest even.
  mantissa |= 0x800000;
  const shift = -unbiased - 14 + 13;
  let half = mantissa >>> shift;
  const rest = mantissa & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && half & 1)) half += 1;
  return sign | half;
}

/** Converts a whole storage array to f32. */
export function decodeToF32(dtype: DType, source: Float32Array | Uint16Array, target: Float32Array): void {
  if (source.length !== target.length) {
    throw new RangeError(`decodeToF32: source has ${source.length} elements, target ${target.length}`);
  }
  if (dtype === 'f32') {
    target.set(source as Float32Array);
    return;
  }
  const src = source as Uint16Array;
  if (dtype === 'bf16') {
    // Widen through u32 in bulk: far faster than one scalar conversion per element.
    const wide = new Uint32Array(target.buffer, target.byteOffset, target.length);
    for (let i = 0; i < src.length; i++) wide[i] = src[i] << 16;
    return;
  }
  for (let i = 0; i < src.length; i++) target[i] = f16ToF32(src[i]);
}

/** Converts f32 values into a storage array (rounding to nearest even for bf16/f16). */
export function encodeFromF32(dtype: DType, source: Float32Array, target: Float32Array | Uint16Array): void {
  if (source.length !== target.length) {
    throw new RangeError(`encodeFromF32: source has ${source.length} elements, target ${target.length}`);
  }
  if (dtype === 'f32') {
    (target as Float32Array).set(source);
    return;
  }
  const convert = dtype === 'bf16' ? f32ToBf16 : f32ToF16;
  for (let i = 0; i < source.length; i++) target[i] = convert(source[i]);
}
