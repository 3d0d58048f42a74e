// Vector helpers shared by the kernels. The module is built twice from the same source: once with plain
// SIMD (madd = mul then add, each rounded, exactly the js backend's arithmetic) and once with relaxed SIMD
// (madd = one fused multiply-add where the CPU has it: faster, rounded once).

/** a·b + c per lane. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** A bf16 at `ptr` widened to f32 (shift left 16) in all four lanes. */
// @ts-ignore: decorator
@inline export function splatBf16(ptr: usize): v128 {
  return i32x4.shl(v128.load16_splat(ptr), 16);
}

/** An f32 (sizeof<W>() == 4) or bf16 (== 2) weight element at `ptr`, in all four lanes. */
// @ts-ignore: decorator
@inline export function splatWeight<W>(ptr: usize): v128 {
  if (sizeof<W>() == 2) return splatBf16(ptr);
  return v128.load32_splat(ptr);
}

/**
 * e^x per lane, Cephes-style (range reduction by ln 2 in two parts, degree-6 polynomial), within about
 * 2 ulp of the true value. Lanes below −87.3 (including −∞) give exactly 0. Plain mul/add only, so the
 * result is the same in both builds and depends on nothing but the lane's own value.
 */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  const tiny = f32x4.lt(x, f32x4.splat(-87.33654)); // ln(FLT_MIN): below it the result is 0
  const v = f32x4.min(f32x4.max(x, f32x4.splat(-87.33654)), f32x4.splat(88.37626));
  const n = f32x4.nearest(f32x4.mul(v, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(v, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  // 2^n built in two halves so n = 128 (x near the top of the range) does not overflow the exponent.
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const half = i32x4.shr_s(ni, 1);
  const scaleA = i32x4.shl(i32x4.add(half, i32x4.splat(127)), 23);
  const scaleB = i32x4.shl(i32x4.add(i32x4.sub(ni, half), i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(f32x4.mul(y, scaleA), scaleB), tiny);
}
