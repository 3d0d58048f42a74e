import type { Backend, Scratch, Tensor } from '@asap/runtime';
import { opOut, zeroedOut } from './activations.ts';
import type { MoeDispatch } from './attention-half.ts';

/**
 * The expert outputs a MoE layer needs back: [T * topK, hidden], row t*topK + s holding (unweighted) the
 * output of the expert in slot s of token t. Engines fill it from whatever arrives, in any order.
 */
export function slotOutputsFor(dispatch: MoeDispatch, scratch?: Scratch): Tensor {
  return zeroedOut(scratch, [dispatch.routing.experts.length, dispatch.expertInput.rowSize]);
}

/**
 * The layer output: residual + Σ_s weight[t,s] · y[t,s], summed in slot order (never arrival order), plus
 * the gated shared expert. The order of every f32 addition is fixed here, so any engine that fills
 * `slotOutputs` with the same rows reproduces the reference bit for bit. Outputs come from `scratch` when given.
 */
export function combine(backend: Backend, residual: Tensor, dispatch: MoeDispatch, slotOutputs: Tensor, scratch?: Scratch): Tensor {
  const { routing, shared } = dispatch;
  const rows = residual.rowCount;
  if (slotOutputs.rowCount !== rows * routing.topK) {
    throw new RangeError(`combine: ${slotOutputs.rowCount} slot outputs for ${rows} rows × top-${routing.topK}`);
  }
  const moe = zeroedOut(scratch, [rows, residual.rowSize]);
  const slotRow = new Int32Array(rows * routing.topK);
  for (let i = 0; i < slotRow.length; i++) slotRow[i] = Math.floor(i / routing.topK);
  backend.scatterAddRows(moe, slotOutputs, slotRow, routing.weights);
  if (shared) {
    const identity = Int32Array.from({ length: rows }, (_, i) => i);
    backend.scatterAddRows(moe, shared.output, identity, shared.gate);
  }
  return backend.add(residual, moe, opOut(scratch, residual.shape));
}
