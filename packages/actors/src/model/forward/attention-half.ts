import type { Backend, RouterChoice, Scratch, Tensor } from '@asap/runtime';
import { opOut } from './activations.ts';
import type { MoeModel } from '../weights/model.ts';
import { type AttentionParams, isMla, type MoeLayerParams } from '../weights/params.ts';
import { gatedFfn } from './gated-ffn.ts';
import { groupLimitedTopK } from './group-router.ts';
import type { LayerKv } from './kv-cache.ts';
import { latentAttention } from './latent-attention.ts';

/**
 * The shared expert's contribution before combine: its output and its gate per row, sigmoid(gate · x) for
 * qwen2_moe, 1 for deepseek_v3 (ungated; 1 · y is exact).
 */
export interface SharedExpertOutput {
  /** [T, hidden], not yet scaled by the gate. */
  readonly output: Tensor;
  /** [T] */
  readonly gate: Float32Array;
}

/** What the attention side of a MoE layer hands to the expert side, and keeps for combine. */
export interface MoeDispatch {
  readonly layer: number;
  /** [T, hidden]: the post-attention-normed rows the routed experts consume. */
  readonly expertInput: Tensor;
  /** Top-k experts and gate weights per row, in slot order. */
  readonly routing: RouterChoice;
  /**
   * Numerics off: rows per expert, drawn in place of per-row routing (then `routing` holds no rows), so
   * the work per chunk does not grow with its tokens.
   */
  readonly expertCounts?: Int32Array;
  readonly shared?: SharedExpertOutput;
}

export interface AttentionHalfResult {
  /** The residual stream after attention; for a dense layer, the layer's output. */
  readonly hidden: Tensor;
  /** Present for a MoE layer: the layer's output is `combine(hidden, moe, expert outputs)`. */
  readonly moe?: MoeDispatch;
}

const f = Math.fround;

/** f32 sigmoid, one rounding per step (the backend has no sigmoid op; this is a single scalar per row). */
function sigmoidColumn(logits: Tensor): Float32Array {
  const x = logits.toF32();
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(1 / f(1 + f(Math.exp(-x[i]))));
  return out;
}

/**
 * Self-attention over the chunk's rows with the request's KV cache: q/k/v projections (+bias), per-head
 * q/k RMSNorm (qwen3_moe) before RoPE, RoPE at positions kv.length.., the keys and values appended to `kv`,
 * causal GQA over every position held, o_proj. Returns the attention output [T, hidden].
 */
function selfAttention(
  backend: Backend,
  model: MoeModel,
  params: AttentionParams<Tensor>,
  x: Tensor,
  kv: LayerKv,
  scratch: Scratch | undefined,
): Tensor {
  const c = model.config;
  const qWidth = c.numHeads * c.headDim;
  const kvWidth = c.numKvHeads * c.headDim;
  const rows = x.rowCount;
  const start = kv.length;
  const end = start + rows;
  if (c.slidingWindow !== null && end > c.slidingWindow) {
    throw new RangeError(
      `${end} positions exceed the sliding window of ${c.slidingWindow}: windowed attention is not implemented`,
    );
  }
  const positions = new Int32Array(rows);
  for (let i = 0; i < rows; i++) positions[i] = start + i;
  const slot = kv.reserve(rows);

  let q = backend.matmul(x, params.q, params.qBias, opOut(scratch, [rows, qWidth]));
  let k = backend.matmul(x, params.k, params.kBias, opOut(scratch, [rows, kvWidth]));
  backend.matmul(x, params.v, params.vBias, slot.values);
  if (params.qNorm && params.kNorm) {
    q = backend.rmsNorm(q, params.qNorm, c.rmsNormEps, opOut(scratch, [rows, qWidth]));
    k = backend.rmsNorm(k, params.kNorm, c.rmsNormEps, opOut(scratch, [rows, kvWidth]));
  }
  backend.rope(q, { numHeads: c.numHeads, headDim: c.headDim, theta: c.ropeTheta, positions }, q);
  backend.rope(k, { numHeads: c.numKvHeads, headDim: c.headDim, theta: c.ropeTheta, positions }, slot.keys);
  kv.commit(rows);

  const attended = backend.attention(
    q,
    kv.filledKeys,
    kv.filledValues,
    { numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim, scale: 1 / Math.sqrt(c.headDim), queryOffset: start },
    opOut(scratch, [rows, qWidth]),
  );
  return backend.matmul(attended, params.o, params.oBias, opOut(scratch, [rows, c.hiddenSize]));
}

/** Top-k experts per row: softmax top-k, or DeepSeek's sigmoid group-limited routing with its scaling folded in. */
function route(backend: Backend, model: MoeModel, params: MoeLayerParams<Tensor>, normed: Tensor, scratch?: Scratch): RouterChoice {
  const c = model.config;
  const logits = backend.matmul(normed, params.router, undefined, opOut(scratch, [normed.rowCount, c.numExperts]));
  if (c.groupRouting && params.routerBias) {
    return groupLimitedTopK(logits, params.routerBias.toF32(), c.topK, c.normTopkProb, c.groupRouting);
  }
  return backend.routerTopK(logits, { topK: c.topK, renormalize: c.normTopkProb });
}

function sharedExpert(backend: Backend, params: MoeLayerParams<Tensor>, normed: Tensor, scratch?: Scratch): SharedExpertOutput | undefined {
  if (!params.sharedExpert) return undefined;
  const output = gatedFfn(backend, params.sharedExpert, normed, scratch);
  const gate = params.sharedExpertGate
    ? sigmoidColumn(backend.matmul(normed, params.sharedExpertGate, undefined, opOut(scratch, [normed.rowCount, 1])))
    : new Float32Array(normed.rowCount).fill(1);
  return { output, gate };
}

/**
 * The attention side of one layer for one request's chunk: input norm, self-attention (grouped-query, or
 * multi-head latent for deepseek_v3), residual, post-attention norm, then either the dense MLP and its
 * residual (dense layer) or the router top-k and the shared expert (MoE layer), leaving the routed experts
 * to the expert side.
 * `hidden` is [T, hidden] at positions kv.length..kv.length+T-1.
 * With `scratch`, every tensor computed here (the result's included) is taken from it where the op can: keep
 * the scratch until the result is used up.
 */
export function attentionHalf(
  backend: Backend,
  model: MoeModel,
  layer: number,
  hidden: Tensor,
  kv: LayerKv,
  scratch?: Scratch,
): AttentionHalfResult {
  const c = model.config;
  const params = model.attention().layers[layer];
  if (!params) throw new RangeError(`attentionHalf: layer ${layer} is outside 0..${c.numLayers - 1}`);
  const rowShape = [hidden.rowCount, c.hiddenSize];

  const x = backend.rmsNorm(hidden, params.inputNorm, c.rmsNormEps, opOut(scratch, rowShape));
  const attention = params.attention;
  const attended = isMla(attention)
    ? latentAttention(backend, model, attention, x, kv)
    : selfAttention(backend, model, attention, x, kv, scratch);
  const residual = backend.add(hidden, attended, opOut(scratch, rowShape));
  const normed = backend.rmsNorm(residual, params.postAttentionNorm, c.rmsNormEps, opOut(scratch, rowShape));
  if (params.kind === 'dense') {
    return { hidden: backend.add(residual, gatedFfn(backend, params.mlp, normed, scratch), opOut(scratch, rowShape)) };
  }
  const routing = route(backend, model, params, normed, scratch);
  return { hidden: residual, moe: { layer, expertInput: normed, routing, shared: sharedExpert(backend, params, normed, scratch) } };
}
