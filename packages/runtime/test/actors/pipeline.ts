// Shared by the test pipeline's actors and its oracle: deterministic weights and the expected result.
import { SeededRandom, Tensor, createBackend } from '@asap/runtime';

export function pipelineWeights(dim: number, seed: number): { norm: Tensor; weight: Tensor } {
  const stream = new SeededRandom(seed);
  const random = (): number => stream.next();
  const norm = Tensor.fromF32(Array.from({ length: dim }, () => 0.5 + random()), [dim]);
  const weight = Tensor.fromF32(Array.from({ length: dim * dim }, () => random() - 0.5), [dim, dim]);
  return { norm, weight };
}

export function pipelineInput(rows: number, dim: number, seed: number): Tensor {
  const stream = new SeededRandom(seed);
  const random = (): number => stream.next();
  return Tensor.fromF32(Array.from({ length: rows * dim }, () => 2 * random() - 1), [rows, dim]);
}

/** The oracle: the same transform computed in one place, no actors. */
export async function pipelineExpected(input: Tensor, seed: number): Promise<Tensor> {
  const backend = await createBackend('js');
  const { norm, weight } = pipelineWeights(input.shape[1], seed);
  return backend.matmul(backend.rmsNorm(input, norm, 1e-6), weight);
}
