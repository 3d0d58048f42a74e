import type { Backend, Scratch, Tensor } from '@asap/runtime';
import type { MlpParams } from '../weights/params.ts';
import { opOut } from './activations.ts';

/**
 * down(silu(gate(x)) * up(x)) on rows [R, hidden]: a routed expert (the whole expert side of a layer), the
 * qwen2_moe shared expert, and a dense MLP layer are all this FFN. Outputs come from `scratch` when given.
 */
export function gatedFfn(backend: Backend, mlp: MlpParams<Tensor>, rows: Tensor, scratch?: Scratch): Tensor {
  const inner = [rows.rowCount, mlp.gate.shape[0]];
  const gate = backend.matmul(rows, mlp.gate, undefined, opOut(scratch, inner));
  const up = backend.matmul(rows, mlp.up, undefined, opOut(scratch, inner));
  backend.siluMul(gate, up, gate);
  return backend.matmul(gate, mlp.down, undefined, opOut(scratch, [rows.rowCount, mlp.down.shape[0]]));
}
