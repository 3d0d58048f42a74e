import { readCommonFields, readNumExperts } from './common.ts';
import type { ConfigFields } from './fields.ts';
import type { ModelConfig } from './model-config.ts';

/** MixtralConfig (transformers): every layer is MoE and the router always renormalises its top-k. */
export function parseMixtral(fields: ConfigFields): ModelConfig {
  const common = readCommonFields(fields, {
    vocabSize: 32000,
    hiddenSize: 4096,
    numLayers: 32,
    numHeads: 32,
    numKvHeads: 8,
    maxPositionEmbeddings: 4096 * 32,
    rmsNormEps: 1e-5,
    ropeTheta: 1e6,
  });
  const numExperts = readNumExperts(fields, 'num_local_experts', 8, 1);
  return {
    arch: 'mixtral',
    ...common,
    slidingWindow: fields.optionalInt('sliding_window', null),
    qkvBias: false,
    oBias: false,
    qkNorm: false,
    numExperts,
    topK: fields.int('num_experts_per_tok', 2),
    normTopkProb: true,
    expertIntermediateSize: fields.int('intermediate_size', 14336),
    denseIntermediateSize: 0,
    sharedExpertIntermediateSize: 0,
    layerKinds: Array.from({ length: common.numLayers }, () => 'moe' as const),
    raw: fields.raw,
  };
}
