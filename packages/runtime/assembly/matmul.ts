// Y[M,N] = X[M,K] · W[N,K]ᵀ (+ bias). X is packed into panels of 8 rows, [k][8] (cheap: M·K); W is read
// in place, row-major as Hugging Face stores it, f32 or bf16 (widened per element). A tile is 4 weight
// rows × 8 activation rows: 8 accumulators, one splat per weight row and two vector loads per k.
// K is taken in slices of DEPTH so a panel slice stays in L1; partial sums wait in a packed buffer
// between slices (stored exactly), so every output is still summed over k = 0..K−1 in order, one madd
// per step, whatever M is or where the row sits (batch invariance).
import { madd, splatWeight } from './simd';

const ROWS = 8; // activation rows per packed panel
const DEPTH = 256; // k per slice: a panel slice is 8 KiB
const tail = memory.data(ROWS * 4 * 4, 16); // one column's 8 results on their way to Y

/** xp[p][k][r] = x[8p + r][k], zero past row M. */
function packRows(x: usize, xp: usize, m: i32, k: i32): void {
  const panels = (m + ROWS - 1) / ROWS;
  for (let p = 0; p < panels; p++) {
    const base = xp + <usize>p * k * ROWS * 4;
    for (let r = 0; r < ROWS; r++) {
      const row = p * ROWS + r;
      if (row < m) {
        const src = x + <usize>row * k * 4;
        for (let t = 0; t < k; t++) store<f32>(base + (<usize>t * ROWS + r) * 4, load<f32>(src + <usize>t * 4));
      } else {
        for (let t = 0; t < k; t++) store<f32>(base + (<usize>t * ROWS + r) * 4, 0);
      }
    }
  }
}

/**
 * Columns col..col+3 for one panel over k in [k0, k1): accumulators start from the packed partial sums
 * acc[col][8] (zero before the first slice) and are stored back.
 */
function tile4<W>(w: usize, k: i32, panel: usize, acc: usize, col: i32, k0: i32, k1: i32): void {
  const wStride = <usize>k * sizeof<W>();
  let w0 = w + <usize>col * wStride + <usize>k0 * sizeof<W>();
  let w1 = w0 + wStride;
  let w2 = w1 + wStride;
  let w3 = w2 + wStride;
  let px = panel + <usize>k0 * ROWS * 4;
  const pa = acc + <usize>col * ROWS * 4;
  let a0 = v128.load(pa), a1 = v128.load(pa, 16), b0 = v128.load(pa, 32), b1 = v128.load(pa, 48);
  let c0 = v128.load(pa, 64), c1 = v128.load(pa, 80), d0 = v128.load(pa, 96), d1 = v128.load(pa, 112);
  for (let t = k0; t < k1; t++) {
    const x0 = v128.load(px);
    const x1 = v128.load(px, 16);
    let s = splatWeight<W>(w0);
    a0 = madd(x0, s, a0);
    a1 = madd(x1, s, a1);
    s = splatWeight<W>(w1);
    b0 = madd(x0, s, b0);
    b1 = madd(x1, s, b1);
    s = splatWeight<W>(w2);
    c0 = madd(x0, s, c0);
    c1 = madd(x1, s, c1);
    s = splatWeight<W>(w3);
    d0 = madd(x0, s, d0);
    d1 = madd(x1, s, d1);
    px += ROWS * 4;
    w0 += sizeof<W>();
    w1 += sizeof<W>();
    w2 += sizeof<W>();
    w3 += sizeof<W>();
  }
  v128.store(pa, a0); v128.store(pa, a1, 16); v128.store(pa, b0, 32); v128.store(pa, b1, 48);
  v128.store(pa, c0, 64); v128.store(pa, c1, 80); v128.store(pa, d0, 96); v128.store(pa, d1, 112);
}

/** Column col (the last N mod 4 columns): the same arithmetic as tile4. */
function tile1<W>(w: usize, k: i32, panel: usize, acc: usize, col: i32, k0: i32, k1: i32): void {
  let w0 = w + (<usize>col * k + k0) * sizeof<W>();
  let px = panel + <usize>k0 * ROWS * 4;
  const pa = acc + <usize>col * ROWS * 4;
  let a0 = v128.load(pa), a1 = v128.load(pa, 16);
  for (let t = k0; t < k1; t++) {
    const s = splatWeight<W>(w0);
    a0 = madd(v128.load(px), s, a0);
    a1 = madd(v128.load(px, 16), s, a1);
    px += ROWS * 4;
    w0 += sizeof<W>();
  }
  v128.store(pa, a0);
  v128.store(pa, a1, 16);
}

/** Packed sums acc[col][8] of one panel (+ bias) into rows m0..m0+rows−1 of Y. */
function storePanel(acc: usize, bias: usize, y: usize, n: i32, m0: i32, rows: i32): void {
  for (let col = 0; col < n; col++) {
    const pa = acc + <usize>col * ROWS * 4;
    let lo = v128.load(pa);
    let hi = v128.load(pa, 16);
    if (bias) {
      const b = v128.load32_splat(bias + <usize>col * 4);
      lo = f32x4.add(lo, b);
      hi = f32x4.add(hi, b);
    }
    v128.store(tail, lo);
    v128.store(tail, hi, 16);
    let p = y + (<usize>m0 * n + col) * 4;
    for (let r = 0; r < rows; r++) {
      store<f32>(p, load<f32>(tail + <usize>r * 4));
      p += <usize>n * 4;
    }
  }
}

/** Rows m0..m0+m−1 of Y: one chunk of at most CHUNK panels. */
function matmulChunk<W>(x: usize, w: usize, bias: usize, y: usize, scratch: usize, m: i32, n: i32, k: i32): void {
  const panels = (m + ROWS - 1) / ROWS;
  const xp = scratch;
  const acc = xp + <usize>panels * k * ROWS * 4; // [panel][col][8]
  packRows(x, xp, m, k);
  memory.fill(acc, 0, <usize>panels * n * ROWS * 4);
  // A block of weight rows' slice (≈ 128 KiB) stays in L2 while every activation panel passes over it.
  let block = (128 * 1024) / (DEPTH * sizeof<W>());
  block = max(4, block & ~3);
  for (let k0 = 0; k0 < k; k0 += DEPTH) {
    const k1 = min(k, k0 + DEPTH);
    for (let c0 = 0; c0 < n; c0 += block) {
      const c1 = min(n, c0 + block);
      for (let p = 0; p < panels; p++) {
        const panel = xp + <usize>p * k * ROWS * 4;
        const pacc = acc + <usize>p * n * ROWS * 4;
        let col = c0;
        for (; col + 4 <= c1; col += 4) tile4<W>(w, k, panel, pacc, col, k0, k1);
        for (; col < c1; col++) tile1<W>(w, k, panel, pacc, col, k0, k1);
      }
    }
  }
  for (let p = 0; p < panels; p++) storePanel(acc + <usize>p * n * ROWS * 4, bias, y, n, p * ROWS, min(ROWS, m - p * ROWS));
}

// Rows are taken CHUNK panels at a time, which bounds the scratch (and never touches a row's arithmetic).
const CHUNK = 64;

function matmul<W>(x: usize, w: usize, bias: usize, y: usize, scratch: usize, m: i32, n: i32, k: i32): void {
  for (let m0 = 0; m0 < m; m0 += CHUNK * ROWS) {
    const rows = min(CHUNK * ROWS, m - m0);
    matmulChunk<W>(x + <usize>m0 * k * 4, w, bias, y + <usize>m0 * n * 4, scratch, rows, n, k);
  }
}

/** Bytes of scratch `matmulF32`/`matmulBf16` need: packed activations and packed partial sums of one chunk. */
export function matmulScratchBytes(m: i32, n: i32, k: i32): usize {
  return <usize>min(CHUNK, (m + ROWS - 1) / ROWS) * ROWS * (<usize>k + n) * 4;
}

export function matmulF32(x: usize, w: usize, bias: usize, y: usize, scratch: usize, m: i32, n: i32, k: i32): void {
  matmul<f32>(x, w, bias, y, scratch, m, n, k);
}

export function matmulBf16(x: usize, w: usize, bias: usize, y: usize, scratch: usize, m: i32, n: i32, k: i32): void {
  matmul<u16>(x, w, bias, y, scratch, m, n, k);
}
