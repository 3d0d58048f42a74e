import type { ArchName } from '../config/model-config.ts';

/** Sizes of a generated model; each architecture turns them into its own config.json. */
export interface ModelPreset {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly numExperts: number;
  readonly topK: number;
  readonly expertIntermediateSize: number;
  /** qwen dense MLP width (written as intermediate_size; unused while every layer is MoE). */
  readonly denseIntermediateSize: number;
  /** qwen2_moe shared expert width. */
  readonly sharedExpertIntermediateSize: number;
  readonly maxPositionEmbeddings: number;
}

export type PresetName = 'tiny' | 'small';

export const PRESET_NAMES: readonly PresetName[] = ['tiny', 'small'];

/** `tiny`: a test runs a whole prompt in milliseconds. `small`: a demo prefill of a few hundred tokens takes seconds. */
export const PRESETS: Readonly<Record<PresetName, ModelPreset>> = {
  tiny: {
    vocabSize: 256,
    hiddenSize: 64,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    numExperts: 8,
    topK: 2,
    expertIntermediateSize: 32,
    denseIntermediateSize: 128,
    sharedExpertIntermediateSize: 64,
    maxPositionEmbeddings: 1024,
  },
  small: {
    vocabSize: 2048,
    hiddenSize: 256,
    numLayers: 4,
    numHeads: 8,
    numKvHeads: 4,
    numExperts: 32,
    topK: 4,
    expertIntermediateSize: 128,
    denseIntermediateSize: 512,
    sharedExpertIntermediateSize: 256,
    maxPositionEmbeddings: 8192,
  },
};

/**
 * The config.json of a generated model, in the architecture's own field names, every field written out
 * (no reliance on defaults) so `transformers` reads the same model.
 */
export function presetConfigJson(arch: ArchName, p: ModelPreset, torchDtype: 'float32' | 'bfloat16'): Record<string, unknown> {
  const common = {
    vocab_size: p.vocabSize,
    hidden_size: p.hiddenSize,
    num_hidden_layers: p.numLayers,
    num_attention_heads: p.numHeads,
    num_key_value_heads: p.numKvHeads,
    max_position_embeddings: p.maxPositionEmbeddings,
    hidden_act: 'silu',
    tie_word_embeddings: false,
    num_experts_per_tok: p.topK,
    torch_dtype: torchDtype,
  };
  if (arch === 'mixtral') {
    return {
      architectures: ['MixtralForCausalLM'],
      model_type: 'mixtral',
      ...common,
      intermediate_size: p.expertIntermediateSize,
      num_local_experts: p.numExperts,
      rms_norm_eps: 1e-5,
      rope_theta: 1e6,
      sliding_window: null,
    };
  }
  const qwen = {
    ...common,
    intermediate_size: p.denseIntermediateSize,
    moe_intermediate_size: p.expertIntermediateSize,
    num_experts: p.numExperts,
    decoder_sparse_step: 1,
    mlp_only_layers: [],
    rms_norm_eps: 1e-6,
    rope_theta: 1e6,
    use_sliding_window: false,
    sliding_window: null,
  };
  if (arch === 'qwen2_moe') {
    return {
      architectures: ['Qwen2MoeForCausalLM'],
      model_type: 'qwen2_moe',
      ...qwen,
      shared_expert_intermediate_size: p.sharedExpertIntermediateSize,
      norm_topk_prob: false,
      qkv_bias: true,
    };
  }
  if (arch === 'deepseek_v3') return deepseekConfigJson(p, common);
  return {
    architectures: ['Qwen3MoeForCausalLM'],
    model_type: 'qwen3_moe',
    ...qwen,
    // Qwen3 widens heads beyond hidden / heads; doubling keeps that trait at every preset size.
    head_dim: 2 * Math.floor(p.hiddenSize / p.numHeads),
    norm_topk_prob: true,
    attention_bias: false,
  };
}

/**
 * DeepSeek-V3 in the legacy form real checkpoints carry: MLA with head dims derived from hidden / heads (v
 * narrower than q·k, as in V3), YaRN RoPE, 4 expert groups of which 2 are kept, layer 0 dense.
 */
function deepseekConfigJson(p: ModelPreset, common: Record<string, unknown>): Record<string, unknown> {
  const base = Math.floor(p.hiddenSize / p.numHeads);
  const groups = 4;
  return {
    architectures: ['DeepseekV3ForCausalLM'],
    model_type: 'deepseek_v3',
    ...common,
    // MLA expands keys and values for every head from one latent: there are no kv head groups.
    num_key_value_heads: p.numHeads,
    intermediate_size: p.denseIntermediateSize,
    moe_intermediate_size: p.expertIntermediateSize,
    n_routed_experts: p.numExperts,
    n_shared_experts: 1,
    routed_scaling_factor: 2.5,
    q_lora_rank: Math.floor((3 * p.hiddenSize) / 4),
    kv_lora_rank: Math.floor(p.hiddenSize / 2),
    qk_nope_head_dim: base,
    qk_rope_head_dim: base / 2,
    v_head_dim: (3 * base) / 4,
    n_group: groups,
    topk_group: 2,
    first_k_dense_replace: 1,
    norm_topk_prob: true,
    scoring_func: 'sigmoid',
    topk_method: 'noaux_tc',
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    rope_scaling: {
      type: 'yarn',
      factor: 4,
      beta_fast: 32,
      beta_slow: 1,
      mscale: 1,
      mscale_all_dim: 1,
      original_max_position_embeddings: Math.floor(p.maxPositionEmbeddings / 4),
    },
    attention_bias: false,
    num_nextn_predict_layers: 0,
  };
}
