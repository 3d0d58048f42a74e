import { qwenLayerKinds, readCommonFields, readNumExperts } from './common.ts';
import type { ConfigFields } from './fields.ts';
import type { ModelConfig } from './model-config.ts';

/** Qwen2MoeConfig (transformers): shared expert with a sigmoid gate, q/k/v biases, dense layers by rule. */
export function parseQwen2Moe(fields: ConfigFields): ModelConfig {
  const common = readCommonFields(fields, {
    vocabSize: 151936,
    hiddenSize: 2048,
    numLayers: 24,
    numHeads: 16,
    numKvHeads: 16,
    maxPositionEmbeddings: 32768,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
  });
  const numExperts = readNumExperts(fields, 'num_experts', 60, 0);
  const step = fields.int('decoder_sparse_step', 1);
  return {
    arch: 'qwen2_moe',
    ...common,
    slidingWindow: fields.bool('use_sliding_window', false) ? fields.optionalInt('sliding_window', 4096) : null,
    qkvBias: fields.bool('qkv_bias', true),
    oBias: false,
    qkNorm: false,
    numExperts,
    topK: fields.int('num_experts_per_tok', 4),
    normTopkProb: fields.bool('norm_topk_prob', false),
    expertIntermediateSize: fields.int('moe_intermediate_size', 1408),
    denseIntermediateSize: fields.int('intermediate_size', 5632),
    sharedExpertIntermediateSize: fields.int('shared_expert_intermediate_size', 5632),
    layerKinds: qwenLayerKinds(common.numLayers, numExperts, step, fields.intList('mlp_only_layers')),
    raw: fields.raw,
  };
}
