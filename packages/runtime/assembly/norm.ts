// RMSNorm and RoPE. Both use only separately rounded mul/add/sub (never a fused madd), in the js
// backend's order, so they give the js backend's bits in either build.

/** y = w · (x · 1/sqrt(mean(x²) + eps)) over `slices` consecutive slices of `width` values. */
export function rmsNorm(x: usize, w: usize, y: usize, slices: i32, width: i32, eps: f32): void {
  const full = width & ~3;
  for (let s = 0; s < slices; s++) {
    const xs = x + <usize>s * width * 4;
    const ys = y + <usize>s * width * 4;
    let sum: f32 = 0;
    for (let j = 0; j < width; j++) {
      const v = load<f32>(xs + <usize>j * 4);
      sum += v * v; // in index order: the reduction order is fixed per row
    }
    const r: f32 = 1 / Mathf.sqrt(sum / <f32>width + eps);
    const rv = f32x4.splat(r);
    for (let j = 0; j < full; j += 4) {
      const o = <usize>j * 4;
      v128.store(ys + o, f32x4.mul(v128.load(w + o), f32x4.mul(v128.load(xs + o), rv)));
    }
    for (let j = full; j < width; j++) {
      const o = <usize>j * 4;
      store<f32>(ys + o, load<f32>(w + o) * (load<f32>(xs + o) * r));
    }
  }
}

/**
 * Rotate-half RoPE on rows of numHeads·headDim: pairs (i, i+half) within each head, cos/sin per
 * (position, i) from a table [positions][half], row r at positions[r] (i32); dims from 2·half to headDim are copied.
 */
export function rope(x: usize, y: usize, cos: usize, sin: usize, positions: usize, rows: i32, numHeads: i32, headDim: i32, half: i32): void {
  const full = half & ~3;
  for (let r = 0; r < rows; r++) {
    const at = <usize>load<i32>(positions + <usize>r * 4) * half * 4;
    const cr = cos + at;
    const sr = sin + at;
    for (let h = 0; h < numHeads; h++) {
      const o = (<usize>r * numHeads + h) * headDim * 4;
      const x1 = x + o;
      const x2 = x1 + <usize>half * 4;
      const y1 = y + o;
      const y2 = y1 + <usize>half * 4;
      for (let i = 0; i < full; i += 4) {
        const p = <usize>i * 4;
        const a = v128.load(x1 + p);
        const b = v128.load(x2 + p);
        const c = v128.load(cr + p);
        const s = v128.load(sr + p);
        v128.store(y1 + p, f32x4.sub(f32x4.mul(a, c), f32x4.mul(b, s)));
        v128.store(y2 + p, f32x4.add(f32x4.mul(b, c), f32x4.mul(a, s)));
      }
      for (let i = full; i < half; i++) {
        const p = <usize>i * 4;
        const a = load<f32>(x1 + p);
        const b = load<f32>(x2 + p);
        const c = load<f32>(cr + p);
        const s = load<f32>(sr + p);
        store<f32>(y1 + p, a * c - b * s);
        store<f32>(y2 + p, b * c + a * s);
      }
      if (y != x && 2 * half < headDim) memory.copy(y + o + <usize>half * 8, x + o + <usize>half * 8, <usize>(headDim - 2 * half) * 4);
    }
  }
}
