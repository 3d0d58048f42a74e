import { Tensor } from '@asap/runtime';

// Column rearrangements of multi-head latent attention: pure copies between the layouts Hugging Face's
// projections produce and the ones the attention op reads (per head, the rotary dims first, so RoPE's
// rotate-half applies to them as to any head). Same arithmetic whatever the backend: none.

/**
 * q [T, H·(nope+rope)], each head [nope | rope] → [T, H·(rope+nope)], each head [rope | nope]. Interleaved
 * rope pairs (x[2i], x[2i+1]) become (x[i], x[i + rope/2]), as transformers' apply_rotary_pos_emb_interleave.
 */
export function ropeFirst(x: Tensor, heads: number, nope: number, rope: number, interleaved: boolean): Tensor {
  const rows = x.rowCount;
  const width = nope + rope;
  const out = Tensor.zeros([rows, heads * width]);
  const src = x.data as Float32Array;
  const dst = out.data as Float32Array;
  const half = rope / 2;
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      const base = (r * heads + h) * width;
      if (interleaved) {
        for (let i = 0; i < half; i++) {
          dst[base + i] = src[base + nope + 2 * i];
          dst[base + half + i] = src[base + nope + 2 * i + 1];
        }
      } else {
        dst.set(src.subarray(base + nope, base + width), base);
      }
      dst.set(src.subarray(base, base + nope), base + rope);
    }
  }
  return out;
}

/**
 * Per-head keys [L, H·(rope+nope)] = [the shared RoPE key | k_nope_h] and values [L, H·v] from kv_b_proj's
 * output [L, H·(nope+v)] (each head [k_nope | v]) and the RoPE keys [L, rope].
 */
export function expandHeads(
  kvb: Tensor,
  ropeKeys: Tensor,
  heads: number,
  nope: number,
  value: number,
): { keys: Tensor; values: Tensor } {
  const rows = kvb.rowCount;
  const rope = ropeKeys.rowSize;
  const keys = Tensor.zeros([rows, heads * (rope + nope)]);
  const values = Tensor.zeros([rows, heads * value]);
  const src = kvb.data as Float32Array;
  const pe = ropeKeys.data as Float32Array;
  const k = keys.data as Float32Array;
  const v = values.data as Float32Array;
  for (let r = 0; r < rows; r++) {
    const shared = pe.subarray(r * rope, (r + 1) * rope);
    for (let h = 0; h < heads; h++) {
      const from = (r * heads + h) * (nope + value);
      const to = (r * heads + h) * (rope + nope);
      k.set(shared, to);
      k.set(src.subarray(from, from + nope), to + rope);
      v.set(src.subarray(from + nope, from + nope + value), (r * heads + h) * value);
    }
  }
  return { keys, values };
}
