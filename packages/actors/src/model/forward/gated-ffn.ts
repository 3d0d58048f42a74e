import type { Backend, Tensor } from '@asap/runtime';
import type { MlpParams } from '../weights/params.ts';

/**
 * down(silu(gate(x)) * up(x)) on rows [R, hidden]: a routed expert (the whole expert side of a layer), the
 * qwen2_moe shared expert, and a dense MLP layer are all this FFN.
 */
export function gatedFfn(backend: Backend, mlp: MlpParams<Tensor>, rows: Tensor): Tensor {
  const gate = backend.matmul(rows, mlp.gate);
  const up = backend.matmul(rows, mlp.up);
  backend.siluMul(gate, up, gate);
  return backend.matmul(gate, mlp.down);
}
