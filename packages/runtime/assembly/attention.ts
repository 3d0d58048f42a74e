// Causal grouped-query attention with an online (flash-style) softmax. Keys are taken in blocks of
// BLOCK at absolute positions 0, BLOCK, 2·BLOCK…; each query row folds in the blocks up to its own
// position, one after another, keeping a running max m, sum l and accumulator (kept in the output row).
// Everything a row computes depends only on its own position and the keys, never on which other query
// rows share the call (batch invariance), and memory is linear in the prompt: one packed key block, the
// output, and two floats per (row, head).
import { exp4, madd } from './simd';

const BLOCK = 64; // keys per block
const LANES = 8; // keys per packed panel

/** kt[panel][d][8] = k[j0 + 8·panel + c][d] for the keys of one block and one kv head; zero past `count`. */
function packKeys(k: usize, kt: usize, kvWidth: i32, count: i32, headDim: i32): void {
  const panels = (count + LANES - 1) / LANES;
  for (let p = 0; p < panels; p++) {
    for (let c = 0; c < LANES; c++) {
      const j = p * LANES + c;
      const dst = kt + (<usize>p * headDim * LANES + c) * 4;
      if (j < count) {
        const src = k + <usize>j * kvWidth * 4;
        for (let d = 0; d < headDim; d++) store<f32>(dst + <usize>d * LANES * 4, load<f32>(src + <usize>d * 4));
      } else {
        for (let d = 0; d < headDim; d++) store<f32>(dst + <usize>d * LANES * 4, 0);
      }
    }
  }
}

/** Scores of 4 query rows (q0, stride qWidth) against `panels` key panels, times scale, into s[4][BLOCK]. */
function scores4(q0: usize, qStride: usize, kt: usize, panels: i32, headDim: i32, scale: v128, s: usize): void {
  for (let p = 0; p < panels; p++) {
    let pk = kt + <usize>p * headDim * LANES * 4;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), d0 = f32x4.splat(0), d1 = f32x4.splat(0);
    let pq = q0;
    for (let d = 0; d < headDim; d++) {
      const k0 = v128.load(pk);
      const k1 = v128.load(pk, 16);
      let x = v128.load32_splat(pq);
      a0 = madd(x, k0, a0);
      a1 = madd(x, k1, a1);
      x = v128.load32_splat(pq + qStride);
      b0 = madd(x, k0, b0);
      b1 = madd(x, k1, b1);
      x = v128.load32_splat(pq + 2 * qStride);
      c0 = madd(x, k0, c0);
      c1 = madd(x, k1, c1);
      x = v128.load32_splat(pq + 3 * qStride);
      d0 = madd(x, k0, d0);
      d1 = madd(x, k1, d1);
      pk += LANES * 4;
      pq += 4;
    }
    const o = s + <usize>p * LANES * 4;
    v128.store(o, f32x4.mul(a0, scale));
    v128.store(o, f32x4.mul(a1, scale), 16);
    v128.store(o + BLOCK * 4, f32x4.mul(b0, scale));
    v128.store(o + BLOCK * 4, f32x4.mul(b1, scale), 16);
    v128.store(o + 2 * BLOCK * 4, f32x4.mul(c0, scale));
    v128.store(o + 2 * BLOCK * 4, f32x4.mul(c1, scale), 16);
    v128.store(o + 3 * BLOCK * 4, f32x4.mul(d0, scale));
    v128.store(o + 3 * BLOCK * 4, f32x4.mul(d1, scale), 16);
  }
}

/** scores4 for one row: the same arithmetic per score. */
function scores1(q: usize, kt: usize, panels: i32, headDim: i32, scale: v128, s: usize): void {
  for (let p = 0; p < panels; p++) {
    let pk = kt + <usize>p * headDim * LANES * 4;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    for (let d = 0; d < headDim; d++) {
      const x = v128.load32_splat(q + <usize>d * 4);
      a0 = madd(x, v128.load(pk), a0);
      a1 = madd(x, v128.load(pk, 16), a1);
      pk += LANES * 4;
    }
    const o = s + <usize>p * LANES * 4;
    v128.store(o, f32x4.mul(a0, scale));
    v128.store(o, f32x4.mul(a1, scale), 16);
  }
}

/**
 * Folds one block's scores s[0..count) into a row's softmax state: new max, e_j = exp(s_j − max) written
 * back over s (zero past count), l = l·c + Σ e_j, acc *= c, with c = exp(old max − new max).
 */
function softmaxStep(s: usize, count: i32, ml: usize, acc: usize, headDim: i32): void {
  // Max is exact in any order; lanes past count are masked to −∞.
  const full = count & ~3;
  let mv = f32x4.splat(-Infinity);
  for (let j = 0; j < full; j += 4) mv = f32x4.max(mv, v128.load(s + <usize>j * 4));
  if (full < count) {
    const lanes = i32x4(0, 1, 2, 3);
    const keep = i32x4.lt_s(lanes, i32x4.splat(count - full));
    mv = f32x4.max(mv, v128.bitselect(v128.load(s + <usize>full * 4), f32x4.splat(-Infinity), keep));
  }
  const blockMax = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  const oldMax = load<f32>(ml);
  const newMax = max(oldMax, blockMax);
  const c = f32x4.extract_lane(exp4(f32x4.splat(oldMax - newMax)), 0);
  const m = f32x4.splat(newMax);
  // e_j = exp(s_j − max), zero past count; summed in 4 lanes (fixed order), then (l0 + l1) + (l2 + l3).
  let sv = f32x4.splat(0);
  for (let j = 0; j < count; j += 4) {
    const p = s + <usize>j * 4;
    let e = exp4(f32x4.sub(v128.load(p), m));
    if (j + 4 > count) e = v128.and(e, i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(count - j)));
    v128.store(p, e);
    sv = f32x4.add(sv, e);
  }
  const sum = (f32x4.extract_lane(sv, 0) + f32x4.extract_lane(sv, 1)) + (f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3));
  store<f32>(ml, newMax);
  store<f32>(ml, load<f32>(ml, 4) * c + sum, 4);
  const cv = f32x4.splat(c);
  const dFull = headDim & ~3;
  for (let d = 0; d < dFull; d += 4) v128.store(acc + <usize>d * 4, f32x4.mul(v128.load(acc + <usize>d * 4), cv));
  for (let d = dFull; d < headDim; d++) store<f32>(acc + <usize>d * 4, load<f32>(acc + <usize>d * 4) * c);
}

/** acc[r] += Σ_{j<count} e[r][j] · v[j] for 4 rows (acc rows at stride accStride), j in order. */
function values4(e: usize, v: usize, vStride: usize, count: i32, acc: usize, accStride: usize, headDim: i32): void {
  let d = 0;
  for (; d + 8 <= headDim; d += 8) {
    const o = <usize>d * 4;
    let a0 = v128.load(acc + o), a1 = v128.load(acc + o, 16);
    let b0 = v128.load(acc + accStride + o), b1 = v128.load(acc + accStride + o, 16);
    let c0 = v128.load(acc + 2 * accStride + o), c1 = v128.load(acc + 2 * accStride + o, 16);
    let d0 = v128.load(acc + 3 * accStride + o), d1 = v128.load(acc + 3 * accStride + o, 16);
    let pv = v + o;
    for (let j = 0; j < count; j++) {
      const v0 = v128.load(pv);
      const v1 = v128.load(pv, 16);
      const pe = e + <usize>j * 4;
      let x = v128.load32_splat(pe);
      a0 = madd(x, v0, a0);
      a1 = madd(x, v1, a1);
      x = v128.load32_splat(pe + BLOCK * 4);
      b0 = madd(x, v0, b0);
      b1 = madd(x, v1, b1);
      x = v128.load32_splat(pe + 2 * BLOCK * 4);
      c0 = madd(x, v0, c0);
      c1 = madd(x, v1, c1);
      x = v128.load32_splat(pe + 3 * BLOCK * 4);
      d0 = madd(x, v0, d0);
      d1 = madd(x, v1, d1);
      pv += vStride;
    }
    v128.store(acc + o, a0);
    v128.store(acc + o, a1, 16);
    v128.store(acc + accStride + o, b0);
    v128.store(acc + accStride + o, b1, 16);
    v128.store(acc + 2 * accStride + o, c0);
    v128.store(acc + 2 * accStride + o, c1, 16);
    v128.store(acc + 3 * accStride + o, d0);
    v128.store(acc + 3 * accStride + o, d1, 16);
  }
  if (d < headDim) {
    for (let r = 0; r < 4; r++) {
      valuesTail(e + <usize>r * BLOCK * 4, v, vStride, 0, count, acc + <usize>r * accStride, d, headDim);
    }
  }
}

/** The dims d0..headDim of one row, keys from..to−1: vectors of 4, then single lanes. */
function valuesTail(e: usize, v: usize, vStride: usize, from: i32, to: i32, acc: usize, d0: i32, headDim: i32): void {
  let d = d0;
  for (; d + 4 <= headDim; d += 4) {
    const o = <usize>d * 4;
    let a = v128.load(acc + o);
    for (let j = from; j < to; j++) a = madd(v128.load32_splat(e + <usize>j * 4), v128.load(v + <usize>j * vStride + o), a);
    v128.store(acc + o, a);
  }
  for (; d < headDim; d++) {
    const o = <usize>d * 4;
    let a = load<f32>(acc + o);
    for (let j = from; j < to; j++) a += load<f32>(e + <usize>j * 4) * load<f32>(v + <usize>j * vStride + o);
    store<f32>(acc + o, a);
  }
}

/** acc += Σ_{from≤j<to} e[j] · v[j] for one row: values4's arithmetic, so a row's result is the same alone or in a group. */
function values1(e: usize, v: usize, vStride: usize, from: i32, to: i32, acc: usize, headDim: i32): void {
  let d = 0;
  for (; d + 8 <= headDim; d += 8) {
    const o = <usize>d * 4;
    let a0 = v128.load(acc + o), a1 = v128.load(acc + o, 16);
    for (let j = from; j < to; j++) {
      const x = v128.load32_splat(e + <usize>j * 4);
      const pv = v + <usize>j * vStride + o;
      a0 = madd(x, v128.load(pv), a0);
      a1 = madd(x, v128.load(pv, 16), a1);
    }
    v128.store(acc + o, a0);
    v128.store(acc + o, a1, 16);
  }
  if (d < headDim) valuesTail(e, v, vStride, from, to, acc, d, headDim);
}

/** Scratch bytes `attention` needs: one packed key block, 4 score rows, (max, sum) per (row, head). */
export function attentionScratchBytes(queries: i32, numHeads: i32, headDim: i32): usize {
  return <usize>BLOCK * headDim * 4 + <usize>4 * BLOCK * 4 + <usize>queries * numHeads * 8;
}

/**
 * out[Tq, H·Dv] = causal softmax(q·kᵀ·scale)·v with GQA (query head h reads kv head h / (H/Hkv)); q and k
 * are Dh wide per head, v and out Dv (valueDim); query row i sits at position queryOffset + i. `scratch`
 * holds attentionScratchBytes(queries, H, Dh).
 */
export function attention(
  q: usize, k: usize, v: usize, out: usize, scratch: usize,
  queries: i32, keys: i32, numHeads: i32, numKvHeads: i32, headDim: i32, valueDim: i32, scaleValue: f32, queryOffset: i32,
): void {
  const kt = scratch;
  const s = kt + <usize>BLOCK * headDim * 4;
  const mls = s + <usize>4 * BLOCK * 4;
  const qWidth = numHeads * headDim;
  const kvWidth = numKvHeads * headDim;
  const outWidth = numHeads * valueDim;
  const qStride = <usize>qWidth * 4;
  const outStride = <usize>outWidth * 4;
  const vStride = <usize>numKvHeads * valueDim * 4;
  const group = numHeads / numKvHeads;
  const scale = f32x4.splat(scaleValue);
  for (let i = 0; i < queries * numHeads; i++) {
    store<f32>(mls + <usize>i * 8, -Infinity);
    store<f32>(mls + <usize>i * 8, 0, 4);
  }
  memory.fill(out, 0, <usize>queries * outWidth * 4);
  const lastKey = queryOffset + queries - 1;
  for (let g = 0; g < numKvHeads; g++) {
    for (let j0 = 0; j0 <= lastKey; j0 += BLOCK) {
      const inBlock = min(BLOCK, keys - j0);
      packKeys(k + (<usize>j0 * kvWidth + g * headDim) * 4, kt, kvWidth, inBlock, headDim);
      const vBlock = v + <usize>j0 * vStride + <usize>g * valueDim * 4;
      const first = max(0, j0 - queryOffset); // rows before it see no key of this block
      for (let h = g * group; h < (g + 1) * group; h++) {
        let i = first;
        for (; i + 4 <= queries; i += 4) {
          // Keys this block gives rows i..i+3: row i the fewest, row i+3 the most.
          const fewest = min(inBlock, queryOffset + i + 1 - j0);
          const most = min(inBlock, queryOffset + i + 4 - j0);
          const q0 = q + (<usize>i * qWidth + h * headDim) * 4;
          const acc0 = out + (<usize>i * outWidth + h * valueDim) * 4;
          scores4(q0, qStride, kt, (most + LANES - 1) / LANES, headDim, scale, s);
          for (let r = 0; r < 4; r++) {
            const count = min(inBlock, queryOffset + i + r + 1 - j0);
            softmaxStep(s + <usize>r * BLOCK * 4, count, mls + (<usize>(i + r) * numHeads + h) * 8, acc0 + <usize>r * outStride, valueDim);
          }
          values4(s, vBlock, vStride, fewest, acc0, outStride, valueDim);
          for (let r = 1; r < 4; r++) {
            const count = min(inBlock, queryOffset + i + r + 1 - j0);
            values1(s + <usize>r * BLOCK * 4, vBlock, vStride, fewest, count, acc0 + <usize>r * outStride, valueDim);
          }
        }
        for (; i < queries; i++) {
          const count = min(inBlock, queryOffset + i + 1 - j0);
          const q1 = q + (<usize>i * qWidth + h * headDim) * 4;
          const acc = out + (<usize>i * outWidth + h * valueDim) * 4;
          scores1(q1, kt, (count + LANES - 1) / LANES, headDim, scale, s);
          softmaxStep(s, count, mls + (<usize>i * numHeads + h) * 8, acc, valueDim);
          values1(s, vBlock, vStride, 0, count, acc, valueDim);
        }
      }
    }
  }
  const full = valueDim & ~3;
  for (let i = 0; i < queries; i++) {
    for (let h = 0; h < numHeads; h++) {
      const acc = out + (<usize>i * outWidth + h * valueDim) * 4;
      const l = load<f32>(mls + (<usize>i * numHeads + h) * 8, 4);
      const lv = f32x4.splat(l);
      for (let d = 0; d < full; d += 4) v128.store(acc + <usize>d * 4, f32x4.div(v128.load(acc + <usize>d * 4), lv));
      for (let d = full; d < valueDim; d++) store<f32>(acc + <usize>d * 4, load<f32>(acc + <usize>d * 4) / l);
    }
  }
}
