import type { ConfigFields } from './fields.ts';
import type { ModelConfig } from './model-config.ts';

/** The fields all three architectures share, under the same meaning. */
export type CommonFields = Pick<
  ModelConfig,
  | 'vocabSize'
  | 'hiddenSize'
  | 'numLayers'
  | 'numHeads'
  | 'numKvHeads'
  | 'headDim'
  | 'maxPositionEmbeddings'
  | 'rmsNormEps'
  | 'ropeTheta'
  | 'tieWordEmbeddings'
>;

/**
 * Sanity limits for the counts that size arrays and loops before a checkpoint's headers can vouch for them
 * (far above any real model: DeepSeek-V3 has 61 layers and 256 experts).
 */
export const MAX_LAYERS = 10_000;
export const MAX_EXPERTS = 1 << 16;

/** The `transformers` defaults of those fields (head_dim and tying derive from others or are per-architecture). */
export type CommonDefaults = Omit<CommonFields, 'headDim' | 'tieWordEmbeddings'>;

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * RoPE base from `rope_theta` (transformers 4.x) or `rope_parameters.rope_theta` (5.x). Only the default
 * rotary embedding is implemented: a scaled one (linear, dynamic, yarn, ...) is refused rather than computed wrongly.
 */
function ropeTheta(fields: ConfigFields, fallback: number): number {
  const parameters = asRecord(fields.raw.rope_parameters);
  const scaling = asRecord(fields.raw.rope_scaling);
  const type = parameters?.rope_type ?? scaling?.rope_type ?? scaling?.type ?? 'default';
  if (type !== 'default') fields.fail(`RoPE type ${JSON.stringify(type)} is not supported (only the default rotary embedding is)`);
  const partial = fields.raw.partial_rotary_factor ?? parameters?.partial_rotary_factor;
  if (partial !== undefined && partial !== null && partial !== 1) {
    fields.fail(`partial_rotary_factor ${JSON.stringify(partial)} is not supported (only 1)`);
  }
  const theta = parameters?.rope_theta ?? fields.raw.rope_theta ?? fallback;
  if (typeof theta !== 'number' || !Number.isFinite(theta) || theta <= 0) {
    fields.fail(`rope_theta must be a positive number, got ${JSON.stringify(theta)}`);
  }
  return theta;
}

/**
 * Reads the fields every architecture shares. `headDim` follows the architecture's rule: `explicitHeadDim`
 * when the config gives one, else hidden_size // num_attention_heads. `readTheta` reads the RoPE base (an
 * architecture with scaled RoPE brings its own).
 */
export function readCommonFields(
  fields: ConfigFields,
  defaults: CommonDefaults,
  readTheta: (fields: ConfigFields, fallback: number) => number = ropeTheta,
): CommonFields {
  const act = fields.string('hidden_act', 'silu');
  if (act !== 'silu' && act !== 'swish') fields.fail(`hidden_act ${JSON.stringify(act)} is not supported (only silu)`);
  const hiddenSize = fields.int('hidden_size', defaults.hiddenSize);
  const numHeads = fields.int('num_attention_heads', defaults.numHeads);
  // A null num_key_value_heads means plain multi-head attention.
  const numKvHeads = fields.raw.num_key_value_heads === null ? numHeads : fields.int('num_key_value_heads', defaults.numKvHeads);
  if (numHeads % numKvHeads !== 0) {
    fields.fail(`num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  }
  // transformers: `getattr(config, "head_dim", None) or hidden_size // num_attention_heads`.
  const given = fields.raw.head_dim;
  const headDim = given === undefined || given === null || given === 0 ? Math.floor(hiddenSize / numHeads) : fields.int('head_dim');
  if (headDim < 2 || headDim % 2 !== 0) fields.fail(`head_dim must be an even number >= 2, got ${headDim}`);
  return {
    vocabSize: fields.int('vocab_size', defaults.vocabSize),
    hiddenSize,
    numLayers: fields.int('num_hidden_layers', defaults.numLayers, 1, MAX_LAYERS),
    numHeads,
    numKvHeads,
    headDim,
    maxPositionEmbeddings: fields.int('max_position_embeddings', defaults.maxPositionEmbeddings),
    rmsNormEps: fields.positive('rms_norm_eps', defaults.rmsNormEps),
    ropeTheta: readTheta(fields, defaults.ropeTheta),
    tieWordEmbeddings: fields.bool('tie_word_embeddings', false),
  };
}

/** Where the config keeps its expert count: `preferred` when present, the other spelling otherwise. */
export function expertsKey(raw: Readonly<Record<string, unknown>>, preferred: 'num_experts' | 'num_local_experts'): string {
  const other = preferred === 'num_experts' ? 'num_local_experts' : 'num_experts';
  return preferred in raw || !(other in raw) ? preferred : other;
}

/** The routed-expert count, under either spelling, within MAX_EXPERTS. */
export function readNumExperts(fields: ConfigFields, preferred: 'num_experts' | 'num_local_experts', fallback: number, min: number): number {
  return fields.int(expertsKey(fields.raw, preferred), fallback, min, MAX_EXPERTS);
}

/** Qwen's layer rule: MoE unless listed in mlp_only_layers, when there are experts and (i + 1) % step == 0. */
export function qwenLayerKinds(numLayers: number, numExperts: number, step: number, mlpOnly: readonly number[]) {
  return Array.from({ length: numLayers }, (_, i) =>
    !mlpOnly.includes(i) && numExperts > 0 && (i + 1) % step === 0 ? ('moe' as const) : ('dense' as const),
  );
}
