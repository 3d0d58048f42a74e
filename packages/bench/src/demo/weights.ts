// The demo pipeline's deterministic data: every actor and the driver derive the same tensors from seeds.
import { SeededRandom, Tensor } from '@asap/runtime';

export function demoWeights(dim: number, seed: number): { norm: Tensor; weight: Tensor } {
  const stream = new SeededRandom(seed);
  const random = (): number => stream.next();
  const norm = Tensor.fromF32(Float32Array.from({ length: dim }, () => 0.5 + random()), [dim]);
  const weight = Tensor.fromF32(Float32Array.from({ length: dim * dim }, () => (random() - 0.5) / Math.sqrt(dim)), [dim, dim]);
  return { norm, weight };
}

export function demoInput(rows: number, dim: number, seed: number): Tensor {
  const stream = new SeededRandom(seed);
  const random = (): number => stream.next();
  return Tensor.fromF32(Float32Array.from({ length: rows * dim }, () => 2 * random() - 1), [rows, dim]);
}
