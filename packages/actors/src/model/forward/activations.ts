// Where the forward pieces put what they compute. With a Scratch (a reused region, in the backend's memory
// when it has one) every op writes into it and nothing is allocated per op; without one, each op returns
// fresh memory as before. Either way the values are the same: only the memory differs.
import { type Scratch, Tensor } from '@asap/runtime';
import type { ModelConfig } from '../config/model-config.ts';

/** An op's `out`: taken from the scratch (not zeroed: the op writes every element), or undefined (the op allocates). */
export function opOut(scratch: Scratch | undefined, shape: readonly number[]): Tensor | undefined {
  return scratch?.take(shape, 'f32', { zero: false });
}

/** A zeroed tensor that is summed into: from the scratch, or fresh. */
export function zeroedOut(scratch: Scratch | undefined, shape: readonly number[]): Tensor {
  return scratch ? scratch.take(shape) : Tensor.zeros(shape);
}

/** Bytes of scratch one request needs to run one layer's two halves and combine over `rows` tokens. */
export function layerScratchBytes(config: ModelConfig, rows: number): number {
  const h = config.hiddenSize;
  const q = config.numHeads * config.headDim;
  const kv = config.numKvHeads * config.headDim;
  // input norm, q, k, q/k norm, attention, o_proj, residual, post-attention norm
  const attention = 4 * h + 2 * q + kv + (config.qkNorm ? q + kv : 0);
  const dense = 2 * config.denseIntermediateSize + 2 * h;
  const shared = config.sharedExpertIntermediateSize > 0 ? 2 * config.sharedExpertIntermediateSize + h + 1 : 0;
  // router logits, shared expert, slot outputs, one expert's rows (at most all of them: gather, gate, up, down), combine
  const moe = config.numExperts + shared + config.topK * h + 2 * h + 2 * config.expertIntermediateSize + 2 * h;
  const floatsPerRow = attention + Math.max(config.denseIntermediateSize > 0 ? dense : 0, moe);
  // every take rounds up to a cache line: at most ~24 takes per layer outside the per-expert ones (reused)
  return rows * floatsPerRow * 4 + 64 * 32;
}
