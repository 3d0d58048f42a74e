// FLOPs and bytes of each op a rank runs, for the sim host's roofline (the threads host only counts ops).
// The same figures describe the work whether numerics are on or off.
import type { DeviceOp } from '@asap/runtime';
import type { ModelConfig } from '../model/config/model-config.ts';
import { kvWidths } from '../model/forward/kv-cache.ts';

const F32 = 4;

/** Attention half of one layer for `tokens` rows at positions [start, start + tokens). */
export function attentionOp(c: ModelConfig, layer: number, tokens: number, start: number, weightBytes: number): DeviceOp {
  const h = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const widths = kvWidths(c);
  const kv = widths.keys + widths.values;
  const m = c.mla;
  // MLA: kv_b expands the latent of every held position (cached and new) into per-head keys and values, as
  // the forward does; the other projections (q through its LoRA, the latent + RoPE key, o_proj) run per new token.
  const expand = m ? m.kvLoraRank * c.numHeads * (m.qkNopeHeadDim + m.vHeadDim) : 0;
  const perToken = m
    ? (m.qLoraRank === null ? h * q : h * m.qLoraRank + m.qLoraRank * q) + h * kv + c.numHeads * m.vHeadDim * h
    : h * (q + kv) + q * h;
  // Causal: row i attends to start + i + 1 keys; QKᵀ (head width) and PV (value width), 2 FLOPs a multiply-add.
  const keysSeen = tokens * start + (tokens * (tokens + 1)) / 2;
  const valueDim = m ? m.vHeadDim : c.headDim;
  const contextFlops = 2 * c.numHeads * (c.headDim + valueDim) * keysSeen;
  let flops = 2 * tokens * perToken + 2 * (start + tokens) * expand + contextFlops;
  let weights = perToken + expand;
  if (c.layerKinds[layer] === 'moe') {
    flops += 2 * tokens * h * c.numExperts;
    weights += h * c.numExperts;
    if (c.sharedExpertIntermediateSize > 0) {
      flops += 6 * tokens * h * c.sharedExpertIntermediateSize;
      weights += 3 * h * c.sharedExpertIntermediateSize;
    }
  } else {
    flops += 6 * tokens * h * c.denseIntermediateSize;
    weights += 3 * h * c.denseIntermediateSize;
  }
  const bytes = weights * weightBytes + F32 * ((start + tokens) * kv + 4 * tokens * h);
  return { name: 'attention', flops, bytes, contextFlops };
}

/** One routed expert's SiLU-gated FFN over `rows` rows. */
export function expertOp(c: ModelConfig, rows: number, weightBytes: number): DeviceOp {
  const h = c.hiddenSize;
  const f = c.expertIntermediateSize;
  return { name: 'expert', flops: 6 * rows * h * f, bytes: 3 * h * f * weightBytes + F32 * rows * (2 * h + 2 * f) };
}

/** Each expert of a batch once over all its rows: weights are read once per expert, not once per row. */
export function expertsOp(c: ModelConfig, rowsPerExpert: Iterable<number>, weightBytes: number): DeviceOp {
  let flops = 0;
  let bytes = 0;
  for (const rows of rowsPerExpert) {
    const op = expertOp(c, rows, weightBytes);
    flops += op.flops ?? 0;
    bytes += op.bytes ?? 0;
  }
  return { name: 'experts', flops, bytes };
}

/** Weighted sum of the top-k expert outputs into the residual for `tokens` rows. */
export function combineOp(c: ModelConfig, tokens: number): DeviceOp {
  const n = tokens * c.hiddenSize;
  // k expert outputs (and the shared expert's, where there is one) summed into the residual.
  const summed = c.topK + (c.sharedExpertIntermediateSize > 0 ? 1 : 0);
  return { name: 'combine', flops: 2 * n * summed, bytes: F32 * n * (summed + 2) };
}

/** Embedding gather of `tokens` rows. */
export function embedOp(c: ModelConfig, tokens: number): DeviceOp {
  return { name: 'embed', flops: 0, bytes: 2 * F32 * tokens * c.hiddenSize };
}

/** Final norm and LM head over `rows` rows (the last position of each finished request). */
export function lmHeadOp(c: ModelConfig, rows: number, weightBytes: number): DeviceOp {
  return { name: 'lm-head', flops: 2 * rows * c.hiddenSize * c.vocabSize, bytes: c.hiddenSize * c.vocabSize * weightBytes };
}
