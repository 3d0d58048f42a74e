import type { Backend, DType, OpName, Tensor } from '@asap/runtime';
import { MoeModel } from './model.ts';
import { mapAttentionSide, mapMlp } from './params.ts';

/**
 * The model with every weight in memory the backend computes on (`backend.resident`), converted to f32
 * where the backend does not take the stored dtype for the op that reads it. 1-D weights (norms,
 * biases) become f32: they are tiny and f32 is exact for every stored dtype.
 */
export function residentModel(model: MoeModel, backend: Backend): MoeModel {
  const accepts = (t: Tensor, ops: readonly OpName[]): boolean =>
    ops.every((op) => (backend.capabilities[op] as readonly DType[]).includes(t.dtype));
  const place = (t: Tensor, ops: readonly OpName[]): Tensor =>
    backend.resident(t.rank === 1 || !accepts(t, ops) ? (t.dtype === 'f32' ? t : t.to('f32')) : t);

  const side = model.attentionSide;
  const attentionSide =
    side &&
    mapAttentionSide(side, (t) => {
      if (t !== side.embedTokens) return place(t, ['matmul']);
      return place(t, t === side.lmHead ? ['gatherRows', 'matmul'] : ['gatherRows']);
    });
  const experts = model.experts.map((held) => new Map([...held].map(([e, mlp]) => [e, mapMlp(mlp, (t) => place(t, ['matmul']))])));
  return new MoeModel(model.config, model.source, attentionSide, experts);
}
