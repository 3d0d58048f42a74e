/** The architectures whose Hugging Face checkpoints load (`model_type` in config.json). */
export type ArchName = 'mixtral' | 'qwen2_moe' | 'qwen3_moe' | 'deepseek_v3';

export const ARCH_NAMES: readonly ArchName[] = ['mixtral', 'qwen2_moe', 'qwen3_moe', 'deepseek_v3'];

export type LayerKind = 'dense' | 'moe';

/**
 * Multi-head latent attention (deepseek_v3): queries through an optional low-rank projection, keys and
 * values expanded per head from one shared latent, plus one RoPE key shared by every head.
 */
export interface MlaConfig {
  /** Rank of the query projection (q_a_proj → q_a_layernorm → q_b_proj), or null for one q_proj. */
  readonly qLoraRank: number | null;
  /** Width of the compressed KV latent (kv_a_layernorm, kv_b_proj input). */
  readonly kvLoraRank: number;
  /** Per-head q/k dims without position (qk_nope_head_dim). */
  readonly qkNopeHeadDim: number;
  /** Per-head q dims, and the shared k dims, that RoPE rotates (qk_rope_head_dim). */
  readonly qkRopeHeadDim: number;
  /** Per-head value width (v_head_dim); o_proj reads numHeads * vHeadDim. */
  readonly vHeadDim: number;
  /** The checkpoint's RoPE pairs are interleaved (x[2i], x[2i+1]), as DeepSeek trains them (rope_interleave). */
  readonly ropeInterleave: boolean;
}

/** YaRN RoPE scaling, in the fields of the legacy `rope_scaling` (and `rope_parameters`). */
export interface YarnScaling {
  readonly factor: number;
  readonly originalMaxPositionEmbeddings: number;
  readonly betaFast: number;
  readonly betaSlow: number;
  /** null when absent (then Hugging Face's default attention factor applies). */
  readonly mscale: number | null;
  readonly mscaleAllDim: number | null;
  /** An explicit attention factor (cos/sin multiplier), or null to derive it from mscale. */
  readonly attentionFactor: number | null;
  /** Round the correction range to whole dims (`truncate`, default true). */
  readonly truncate: boolean;
}

/**
 * DeepSeek-V3 routing: sigmoid scores; `e_score_correction_bias` added for choosing only; experts in
 * `numGroups` groups, the `topkGroups` groups with the largest sum of their two best biased scores kept;
 * weights the chosen unbiased scores (normalised when normTopkProb) times `routedScalingFactor`.
 */
export interface GroupRoutingConfig {
  readonly numGroups: number;
  readonly topkGroups: number;
  readonly routedScalingFactor: number;
}

/**
 * A model's shape and numerics, normalised across architectures: every `transformers` default is applied,
 * so the forward never consults the raw JSON.
 */
export interface ModelConfig {
  readonly arch: ArchName;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly maxPositionEmbeddings: number;
  readonly tieWordEmbeddings: boolean;
  /** Attention limited to the last N keys, or null for full causal attention. */
  readonly slidingWindow: number | null;
  /** q/k/v projections carry a bias (qwen2_moe `qkv_bias`, qwen3_moe `attention_bias`). */
  readonly qkvBias: boolean;
  /** o_proj carries a bias (qwen3_moe `attention_bias`). */
  readonly oBias: boolean;
  /** Per-head RMSNorm of q and k before RoPE (qwen3_moe). */
  readonly qkNorm: boolean;
  /** Routed experts per MoE layer. */
  readonly numExperts: number;
  /** Experts each token goes to. */
  readonly topK: number;
  /** Divide the top-k router probabilities by their sum (always for mixtral; `norm_topk_prob` for qwen). */
  readonly normTopkProb: boolean;
  /** Hidden width of one routed expert. */
  readonly expertIntermediateSize: number;
  /** Hidden width of a dense MLP layer (qwen `intermediate_size`); 0 when the architecture has none. */
  readonly denseIntermediateSize: number;
  /** Hidden width of the shared expert (qwen2_moe; deepseek_v3 n_shared_experts × moe_intermediate_size, ungated), 0 when there is none. */
  readonly sharedExpertIntermediateSize: number;
  /** The kind of each layer, from `decoder_sparse_step` and `mlp_only_layers` (deepseek_v3: `first_k_dense_replace`). */
  readonly layerKinds: readonly LayerKind[];
  /** deepseek_v3: multi-head latent attention (then headDim is qk_nope + qk_rope and numKvHeads numHeads). */
  readonly mla?: MlaConfig;
  /** deepseek_v3: YaRN scaling of RoPE; absent for the default rotary embedding. */
  readonly ropeScaling?: YarnScaling;
  /** deepseek_v3: sigmoid, group-limited routing instead of softmax top-k. */
  readonly groupRouting?: GroupRoutingConfig;
  /** config.json as read, for fields this normalisation does not carry. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Indices of the MoE layers. */
export function moeLayers(config: ModelConfig): number[] {
  return config.layerKinds.flatMap((kind, i) => (kind === 'moe' ? [i] : []));
}
