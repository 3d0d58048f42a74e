import type { DType } from '@asap/runtime';

/** Element sizes of every dtype the safetensors format defines, so any header can be checked for consistency. */
const ELEMENT_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

const TO_DTYPE: Readonly<Record<string, DType>> = { F32: 'f32', F16: 'f16', BF16: 'bf16' };
const FROM_DTYPE: Readonly<Record<DType, string>> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };

/** Bytes per element of a safetensors dtype name, or undefined for a name the format does not define. */
export function safetensorsElementBytes(name: string): number | undefined {
  return ELEMENT_BYTES[name];
}

/** The tensor dtype a safetensors dtype name loads as, or undefined where we cannot compute with it. */
export function dtypeFromSafetensors(name: string): DType | undefined {
  return TO_DTYPE[name];
}

export function dtypeToSafetensors(dtype: DType): string {
  return FROM_DTYPE[dtype];
}

export const SUPPORTED_SAFETENSORS_DTYPES: readonly string[] = Object.keys(TO_DTYPE);
