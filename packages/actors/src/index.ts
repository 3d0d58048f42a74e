// Public API of @asap/actors. Each area adds its exports in its own block.

// model: checkpoints, configs, weights
export { CheckpointError } from './errors.ts';
export {
  ARCH_NAMES,
  moeLayers,
  type ArchName,
  type GroupRoutingConfig,
  type LayerKind,
  type MlaConfig,
  type ModelConfig,
  type YarnScaling,
} from './model/config/model-config.ts';
export { CONFIG_FILE, parseModelConfig, readModelConfig } from './model/config/parse.ts';
export { checkpointWeightBytes } from './model/config/weight-bytes.ts';
export { SafetensorsFile } from './model/safetensors/file.ts';
export { INDEX_FILE, SINGLE_FILE, SafetensorsCheckpoint } from './model/safetensors/checkpoint-files.ts';
export type { SafetensorsEntry } from './model/safetensors/header.ts';
export { writeCheckpointWeights, writeSafetensors, type NamedTensors } from './model/safetensors/write.ts';
export type {
  AttentionParams,
  AttentionSideParams,
  DenseLayerParams,
  LayerParams,
  MlaParams,
  MlpParams,
  MoeLayerParams,
  SelfAttentionParams,
  TensorSpec,
} from './model/weights/params.ts';
export { isMla } from './model/weights/params.ts';
export { attentionSideSpecs, checkpointSpecs, expertSpecs } from './model/weights/names.ts';
export { MoeModel } from './model/weights/model.ts';
export { loadModel, type ExpertSelection, type LoadedModel, type LoadOptions } from './model/weights/load.ts';
export { residentModel } from './model/weights/resident.ts';

// model: generator
export { PRESET_NAMES, PRESETS, presetConfigJson, type ModelPreset, type PresetName } from './model/generate/presets.ts';
export { generateModel, generateTensor, type GeneratedModel, type GenerateOptions } from './model/generate/generate.ts';

// model: forward pieces and the reference forward
export { KvCache, kvBytesPerToken, kvWidths, LayerKv, type KvWidths } from './model/forward/kv-cache.ts';
export { layerScratchBytes } from './model/forward/activations.ts';
export { checkPrompt } from './model/forward/prompt.ts';
export { gatedFfn } from './model/forward/gated-ffn.ts';
export {
  attentionHalf,
  type AttentionHalfResult,
  type MoeDispatch,
  type SharedExpertOutput,
} from './model/forward/attention-half.ts';
export { rowsByExpert, type ExpertRows } from './model/forward/dispatch.ts';
export { groupLimitedTopK } from './model/forward/group-router.ts';
export { combine, slotOutputsFor } from './model/forward/combine.ts';
export { runLocalExperts } from './model/forward/local-experts.ts';
export { argmax, lmHeadLogits } from './model/forward/lm-head.ts';
export { referencePrefill, type PrefillResult, type ReferencePrefillOptions } from './model/forward/reference.ts';

// engines: the public API
export { createEngine } from './engines/create-engine.ts';
export { DEFAULT_EXPRESS_ROUND_TRIPS } from './engines/asap.ts';
export {
  ENGINE_NAMES,
  type AsapOptions,
  type Engine,
  type EngineName,
  type EngineOptions,
  type EngineStats,
  type ExpertPlacementOptions,
  type HostName,
  type PrefillOutcome,
  type PrefillRequest,
  type RankReport,
  type RankSpan,
  type SimOptions,
  type SyncOptions,
} from './engines/engine.ts';
export {
  EngineClosedError,
  EngineConfigError,
  EngineFailedError,
  EngineOverloadedError,
  PrefillCancelledError,
  PrefillRequestError,
} from './errors.ts';
export { placeExperts, type ExpertHolders, type PlacementOptions } from './ranks/expert-placement.ts';
export type { InjectedFault, SpanKind } from './ranks/timeline.ts';
// a rank's compute as the rank actors run it (for timing rank ops, e.g. a calibration)
export { RankModel, type RankCompute, type RankKv, type RankModelSpec } from './ranks/rank-model.ts';
export { planDispatch, type ExpertBatchResult, type IncomingRows, type OutgoingRows, type ReplicaChoice } from './ranks/dispatch-rows.ts';

// model shapes (numerics off) and the roofline cost of each rank op
export { MODEL_SHAPES, modelShapeDir } from './model/shapes/model-shapes.ts';
export { attentionOp, combineOp, embedOp, expertOp, expertsOp, lmHeadOp } from './ranks/op-costs.ts';
