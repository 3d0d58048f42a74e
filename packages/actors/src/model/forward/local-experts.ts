import type { Backend, Scratch, Tensor } from '@asap/runtime';
import { opOut } from './activations.ts';
import type { MoeModel } from '../weights/model.ts';
import type { MoeDispatch } from './attention-half.ts';
import { slotOutputsFor } from './combine.ts';
import { rowsByExpert } from './dispatch.ts';
import { gatedFfn } from './gated-ffn.ts';

/**
 * The expert side of a MoE layer run in place: each routed expert (held by `model`) computes the rows sent
 * to it and its outputs land in their slots. Engines do the same across ranks; batch-invariant kernels make
 * each row's result independent of which rows share the batch. With `scratch`, the slot outputs come from it.
 */
export function runLocalExperts(backend: Backend, model: MoeModel, dispatch: MoeDispatch, scratch?: Scratch): Tensor {
  const slotOutputs = slotOutputsFor(dispatch, scratch);
  const width = slotOutputs.rowSize;
  const target = slotOutputs.data as Float32Array;
  for (const { expert, slots, tokens } of rowsByExpert(dispatch.routing)) {
    // One expert's rows and activations are dead once copied into their slots: the next expert reuses them.
    const mark = scratch?.mark();
    const rows = backend.gatherRows(dispatch.expertInput, tokens, opOut(scratch, [tokens.length, width]));
    const out = gatedFfn(backend, model.expert(dispatch.layer, expert), rows, scratch).data as Float32Array;
    for (let i = 0; i < slots.length; i++) target.set(out.subarray(i * width, (i + 1) * width), slots[i] * width);
    if (mark !== undefined) scratch?.resetTo(mark);
  }
  return slotOutputs;
}
