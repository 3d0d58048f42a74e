import type { RopeOptions } from '../backend.ts';

const f = Math.fround;

/** cos/sin per (row, frequency), rows × rotaryDim/2, computed in f32 the way Hugging Face's rotary embedding does. */
export interface RopeTable {
  readonly half: number;
  readonly cos: Float32Array;
  readonly sin: Float32Array;
}

const inverseFrequencies = new Map<string, Float32Array>();

/** inv_freq[i] = 1 / theta^(2i / rotaryDim), each step rounded to f32 as torch does. */
function inverseFrequency(rotaryDim: number, theta: number): Float32Array {
  const key = `${rotaryDim}:${theta}`;
  let inv = inverseFrequencies.get(key);
  if (!inv) {
    inv = new Float32Array(rotaryDim / 2);
    for (let i = 0; i < inv.length; i++) inv[i] = f(1 / f(Math.pow(f(theta), f((2 * i) / rotaryDim))));
    inverseFrequencies.set(key, inv);
  }
  return inv;
}

/**
 * The table for `options.positions`. Given `inverseFrequencies` replace theta's (scaled RoPE);
 * `attentionScaling` multiplies cos and sin after rounding, as Hugging Face applies YaRN's attention factor.
 */
export function ropeTable(options: RopeOptions, rotaryDim: number): RopeTable {
  const { positions } = options;
  const inv = options.inverseFrequencies ?? inverseFrequency(rotaryDim, options.theta);
  const half = rotaryDim / 2;
  const m = f(options.attentionScaling ?? 1);
  const cos = new Float32Array(positions.length * half);
  const sin = new Float32Array(positions.length * half);
  for (let r = 0; r < positions.length; r++) {
    const p = positions[r];
    for (let i = 0; i < half; i++) {
      const angle = f(p * inv[i]);
      cos[r * half + i] = m === 1 ? f(Math.cos(angle)) : f(f(Math.cos(angle)) * m);
      sin[r * half + i] = m === 1 ? f(Math.sin(angle)) : f(f(Math.sin(angle)) * m);
    }
  }
  return { half, cos, sin };
}
