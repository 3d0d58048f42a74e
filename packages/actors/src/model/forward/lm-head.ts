import type { Backend, Tensor } from '@asap/runtime';
import type { MoeModel } from '../weights/model.ts';

/** Final RMSNorm then the LM head: hidden rows [R, hidden] → logits [R, vocab]. */
export function lmHeadLogits(backend: Backend, model: MoeModel, hidden: Tensor): Tensor {
  const params = model.attention();
  return backend.matmul(backend.rmsNorm(hidden, params.finalNorm, model.config.rmsNormEps), params.lmHead);
}

/** Index of the largest logit, the lowest id on ties (as torch.argmax). A NaN logit is an error, not a token. */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 0; i < logits.length; i++) {
    if (Number.isNaN(logits[i])) throw new RangeError(`argmax: logit ${i} is NaN`);
    if (logits[i] > logits[best]) best = i;
  }
  return best;
}
