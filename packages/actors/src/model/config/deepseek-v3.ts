import { asRecord, readCommonFields } from './common.ts';
import type { ConfigFields } from './fields.ts';
import type { ModelConfig, YarnScaling } from './model-config.ts';

interface DeepseekRope {
  readonly theta: number;
  readonly scaling?: YarnScaling;
}

/**
 * RoPE of a DeepSeek config: the legacy `rope_theta` + `rope_scaling` (`type: yarn`) real checkpoints carry,
 * or transformers 5's `rope_parameters`. Default or YaRN; anything else is refused naming the field.
 */
function readRope(fields: ConfigFields, fallbackTheta: number, maxPositions: number): DeepseekRope {
  const parameters = asRecord(fields.raw.rope_parameters);
  const legacy = asRecord(fields.raw.rope_scaling);
  const where = parameters ? 'rope_parameters' : 'rope_scaling';
  const src = parameters ?? legacy;
  const theta = parameters?.rope_theta ?? fields.raw.rope_theta ?? fallbackTheta;
  if (typeof theta !== 'number' || !Number.isFinite(theta) || theta <= 0) {
    fields.fail(`rope_theta must be a positive number, got ${JSON.stringify(theta)}`);
  }
  const partial = fields.raw.partial_rotary_factor ?? parameters?.partial_rotary_factor;
  if (partial !== undefined && partial !== null && partial !== 1) {
    fields.fail(`partial_rotary_factor ${JSON.stringify(partial)} is not supported (only 1)`);
  }
  const type = src?.rope_type ?? src?.type ?? 'default';
  if (type === 'default') return { theta };
  if (type !== 'yarn') fields.fail(`${where}.type ${JSON.stringify(type)} is not supported (only "default" and "yarn")`);
  const s = src!;
  const number = (key: string, fallback: number | null, positive = true): number | null => {
    const v = s[key] ?? fallback;
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0)) {
      fields.fail(`${where}.${key} must be a ${positive ? 'positive ' : ''}number, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  if (s.truncate !== undefined && typeof s.truncate !== 'boolean') fields.fail(`${where}.truncate must be true or false`);
  const factor = number('factor', null);
  if (factor === null) fields.fail(`${where}.factor is missing (YaRN needs it)`);
  return {
    theta,
    scaling: {
      factor,
      // transformers: original_max_position_embeddings or, absent, max_position_embeddings; beta_* `or` defaults.
      originalMaxPositionEmbeddings: number('original_max_position_embeddings', maxPositions)!,
      betaFast: number('beta_fast', 32) || 32,
      betaSlow: number('beta_slow', 1) || 1,
      mscale: number('mscale', null, false),
      mscaleAllDim: number('mscale_all_dim', null, false),
      attentionFactor: number('attention_factor', null),
      truncate: (s.truncate as boolean | undefined) ?? true,
    },
  };
}

/**
 * DeepseekV3Config (transformers), legacy fields included: multi-head latent attention, sigmoid routing
 * with a correction bias, group-limited top-k, shared experts, the first `first_k_dense_replace` layers
 * dense. The multi-token-prediction layers (`num_nextn_predict_layers`) are not part of prefill: their
 * tensors are never named, so never read. Variants not implemented are refused, naming the field.
 */
export function parseDeepseekV3(fields: ConfigFields): ModelConfig {
  const maxPositions = fields.int('max_position_embeddings', 4096);
  const rope = readRope(fields, 10000, maxPositions);
  const common = readCommonFields(
    fields,
    {
      vocabSize: 129280,
      hiddenSize: 7168,
      numLayers: 61,
      numHeads: 128,
      numKvHeads: 128,
      maxPositionEmbeddings: 4096,
      rmsNormEps: 1e-6,
      ropeTheta: 10000,
    },
    () => rope.theta,
  );
  const topkMethod = fields.string('topk_method', 'noaux_tc');
  if (topkMethod !== 'noaux_tc') fields.fail(`topk_method ${JSON.stringify(topkMethod)} is not supported (only "noaux_tc")`);
  const scoring = fields.string('scoring_func', 'sigmoid');
  if (scoring !== 'sigmoid') fields.fail(`scoring_func ${JSON.stringify(scoring)} is not supported (only "sigmoid")`);
  if (fields.int('moe_layer_freq', 1) !== 1) fields.fail(`moe_layer_freq ${JSON.stringify(fields.raw.moe_layer_freq)} is not supported (only 1)`);
  if (fields.bool('attention_bias', false)) fields.fail('attention_bias true is not supported (DeepSeek-V3 has no attention biases)');
  fields.int('num_nextn_predict_layers', 0, 0);

  const qkRopeHeadDim = fields.int('qk_rope_head_dim', 64);
  if (qkRopeHeadDim % 2 !== 0) fields.fail(`qk_rope_head_dim must be even, got ${qkRopeHeadDim}`);
  const mla = {
    qLoraRank: fields.optionalInt('q_lora_rank', 1536),
    kvLoraRank: fields.int('kv_lora_rank', 512),
    qkNopeHeadDim: fields.int('qk_nope_head_dim', 128),
    qkRopeHeadDim,
    vHeadDim: fields.int('v_head_dim', 128),
    ropeInterleave: fields.bool('rope_interleave', true),
  };

  const numExperts = fields.int('n_routed_experts', 256);
  const topK = fields.int('num_experts_per_tok', 8);
  const numGroups = fields.int('n_group', 8);
  const topkGroups = fields.int('topk_group', 4);
  if (numExperts % numGroups !== 0) fields.fail(`n_routed_experts (${numExperts}) must be a multiple of n_group (${numGroups})`);
  const groupSize = numExperts / numGroups;
  if (groupSize < 2) fields.fail(`n_group (${numGroups}) leaves fewer than 2 experts per group (groups are ranked by their best two)`);
  if (topkGroups > numGroups) fields.fail(`topk_group (${topkGroups}) exceeds n_group (${numGroups})`);
  if (topK > topkGroups * groupSize) {
    fields.fail(`num_experts_per_tok (${topK}) exceeds the ${topkGroups * groupSize} experts of the topk_group (${topkGroups}) groups kept`);
  }
  const expertIntermediateSize = fields.int('moe_intermediate_size', 2048);
  const firstDense = fields.int('first_k_dense_replace', 3, 0);
  return {
    arch: 'deepseek_v3',
    ...common,
    numKvHeads: common.numHeads,
    headDim: mla.qkNopeHeadDim + mla.qkRopeHeadDim,
    slidingWindow: null,
    qkvBias: false,
    oBias: false,
    qkNorm: false,
    numExperts,
    topK,
    normTopkProb: fields.bool('norm_topk_prob', true),
    expertIntermediateSize,
    denseIntermediateSize: fields.int('intermediate_size', 18432),
    sharedExpertIntermediateSize: fields.int('n_shared_experts', 1, 0) * expertIntermediateSize,
    layerKinds: Array.from({ length: common.numLayers }, (_, i) => (i < firstDense ? ('dense' as const) : ('moe' as const))),
    mla,
    ...(rope.scaling && { ropeScaling: rope.scaling }),
    groupRouting: { numGroups, topkGroups, routedScalingFactor: fields.positive('routed_scaling_factor', 2.5) },
    raw: fields.raw,
  };
}
