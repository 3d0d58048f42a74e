import { qwenLayerKinds, readCommonFields, readNumExperts } from './common.ts';
import type { ConfigFields } from './fields.ts';
import type { ModelConfig } from './model-config.ts';

/** Qwen3MoeConfig (transformers): per-head q/k RMSNorm before RoPE, optional attention bias, no shared expert. */
export function parseQwen3Moe(fields: ConfigFields): ModelConfig {
  const common = readCommonFields(fields, {
    vocabSize: 151936,
    hiddenSize: 2048,
    numLayers: 24,
    numHeads: 32,
    numKvHeads: 4,
    maxPositionEmbeddings: 32768,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
  });
  const numExperts = readNumExperts(fields, 'num_experts', 128, 0);
  const step = fields.int('decoder_sparse_step', 1);
  const bias = fields.bool('attention_bias', false);
  return {
    arch: 'qwen3_moe',
    ...common,
    slidingWindow: fields.bool('use_sliding_window', false) ? fields.optionalInt('sliding_window', 4096) : null,
    qkvBias: bias,
    oBias: bias,
    qkNorm: true,
    numExperts,
    topK: fields.int('num_experts_per_tok', 8),
    normTopkProb: fields.bool('norm_topk_prob', false),
    expertIntermediateSize: fields.int('moe_intermediate_size', 768),
    denseIntermediateSize: fields.int('intermediate_size', 6144),
    sharedExpertIntermediateSize: 0,
    layerKinds: qwenLayerKinds(common.numLayers, numExperts, step, fields.intList('mlp_only_layers')),
    raw: fields.raw,
  };
}
