/** The architectures whose Hugging Face checkpoints load (`model_type` in config.json). */
export type ArchName = 'mixtral' | 'qwen2_moe' | 'qwen3_moe';

export const ARCH_NAMES: readonly ArchName[] = ['mixtral', 'qwen2_moe', 'qwen3_moe'];

export type LayerKind = 'dense' | 'moe';

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
  /** Hidden width of the shared expert (qwen2_moe), 0 when there is none. */
  readonly sharedExpertIntermediateSize: number;
  /** The kind of each layer, from `decoder_sparse_step` and `mlp_only_layers`. */
  readonly layerKinds: readonly LayerKind[];
  /** config.json as read, for fields this normalisation does not carry. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Indices of the MoE layers. */
export function moeLayers(config: ModelConfig): number[] {
  return config.layerKinds.flatMap((kind, i) => (kind === 'moe' ? [i] : []));
}
