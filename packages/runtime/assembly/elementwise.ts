// Elementwise ops over n f32 values. Full vectors in place; the last n mod 4 values go through a small
// buffer, so every element gets exactly the vector arithmetic (no separate scalar path).
import { exp4 } from './simd';

const tail = memory.data(16, 16);

// @ts-ignore: decorator
@inline function loadTail(p: usize, count: i32): v128 {
  v128.store(tail, f32x4.splat(0));
  memory.copy(tail, p, <usize>count * 4);
  return v128.load(tail);
}

// @ts-ignore: decorator
@inline function storeTail(p: usize, value: v128, count: i32): void {
  v128.store(tail, value);
  memory.copy(p, tail, <usize>count * 4);
}

export function add(a: usize, b: usize, y: usize, n: i32): void {
  const full = n & ~3;
  for (let i = 0; i < full; i += 4) {
    const o = <usize>i * 4;
    v128.store(y + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  if (full < n) {
    const o = <usize>full * 4;
    const va = loadTail(a + o, n - full);
    storeTail(y + o, f32x4.add(va, loadTail(b + o, n - full)), n - full);
  }
}

export function scale(x: usize, y: usize, n: i32, s: f32): void {
  const k = f32x4.splat(s);
  const full = n & ~3;
  for (let i = 0; i < full; i += 4) {
    const o = <usize>i * 4;
    v128.store(y + o, f32x4.mul(v128.load(x + o), k));
  }
  if (full < n) {
    const o = <usize>full * 4;
    storeTail(y + o, f32x4.mul(loadTail(x + o, n - full), k), n - full);
  }
}

// @ts-ignore: decorator
@inline function silu4(g: v128): v128 {
  return f32x4.div(g, f32x4.add(f32x4.splat(1), exp4(f32x4.neg(g))));
}

/** y = silu(gate) · up. */
export function siluMul(gate: usize, up: usize, y: usize, n: i32): void {
  const full = n & ~3;
  for (let i = 0; i < full; i += 4) {
    const o = <usize>i * 4;
    v128.store(y + o, f32x4.mul(silu4(v128.load(gate + o)), v128.load(up + o)));
  }
  if (full < n) {
    const o = <usize>full * 4;
    const g = loadTail(gate + o, n - full);
    storeTail(y + o, f32x4.mul(silu4(g), loadTail(up + o, n - full)), n - full);
  }
}
