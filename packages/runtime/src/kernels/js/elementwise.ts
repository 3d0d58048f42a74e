import type { Tensor } from '../../tensor/tensor.ts';
import { checkScale, outputFor, requireF32, requireSameShape } from '../common/checks.ts';

const f = Math.fround;

/** silu(gate) · up = gate / (1 + e^−gate) · up, in f32. */
export function siluMul(gate: Tensor, up: Tensor, out: Tensor | undefined): Tensor {
  requireF32('siluMul', 'gate', gate);
  requireF32('siluMul', 'up', up);
  requireSameShape('siluMul', gate, 'gate', up, 'up');
  const y = outputFor('siluMul', gate.shape, out);
  const g = gate.data as Float32Array;
  const u = up.data as Float32Array;
  const ys = y.data as Float32Array;
  for (let i = 0; i < g.length; i++) ys[i] = f(f(g[i] / f(1 + f(Math.exp(-g[i])))) * u[i]);
  return y;
}

export function add(a: Tensor, b: Tensor, out: Tensor | undefined): Tensor {
  requireF32('add', 'a', a);
  requireF32('add', 'b', b);
  requireSameShape('add', a, 'a', b, 'b');
  const y = outputFor('add', a.shape, out);
  const as = a.data as Float32Array;
  const bs = b.data as Float32Array;
  const ys = y.data as Float32Array;
  for (let i = 0; i < as.length; i++) ys[i] = f(as[i] + bs[i]);
  return y;
}

export function scale(x: Tensor, s: number, out: Tensor | undefined): Tensor {
  checkScale(x, s);
  const y = outputFor('scale', x.shape, out);
  const xs = x.data as Float32Array;
  const ys = y.data as Float32Array;
  const k = f(s);
  for (let i = 0; i < xs.length; i++) ys[i] = f(xs[i] * k);
  return y;
}
