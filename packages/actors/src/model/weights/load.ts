import { join } from 'node:path';
import type { Tensor } from '@asap/runtime';
import { CheckpointError } from '../../errors.ts';
import { CONFIG_FILE, readModelConfig } from '../config/parse.ts';
import { expertsKey } from '../config/common.ts';
import type { ModelConfig } from '../config/model-config.ts';
import { SafetensorsCheckpoint } from '../safetensors/checkpoint-files.ts';
import { dtypeFromSafetensors, SUPPORTED_SAFETENSORS_DTYPES } from '../safetensors/dtypes.ts';
import { MoeModel } from './model.ts';
import { attentionSideSpecs, checkpointSpecs, expertSpecs } from './names.ts';
import { attentionSideLeaves, mapAttentionSide, type MlpParams, type TensorSpec } from './params.ts';

/** Which routed experts to load: all, none, the same ids in every MoE layer, or ids per layer. */
export type ExpertSelection = 'all' | 'none' | readonly number[] | ((layer: number) => readonly number[]);

export interface LoadOptions {
  /** Load everything but the routed experts: embeddings, attention, norms, routers, shared/dense MLPs, LM head. Default true. */
  readonly attentionSide?: boolean;
  /** Routed experts to load in each MoE layer. Default 'all'. */
  readonly experts?: ExpertSelection;
}

export interface LoadedModel {
  readonly model: MoeModel;
  /** Bytes read from disk: headers plus the selected tensors, nothing else. */
  readonly bytesRead: number;
  /** Names of the tensors read, in read order. */
  readonly tensorsRead: readonly string[];
}

function selectedExperts(config: ModelConfig, selection: ExpertSelection, layer: number): number[] {
  if (config.layerKinds[layer] !== 'moe' || selection === 'none') return [];
  if (selection === 'all') return Array.from({ length: config.numExperts }, (_, e) => e);
  const ids = typeof selection === 'function' ? selection(layer) : selection;
  for (const e of ids) {
    if (!Number.isInteger(e) || e < 0 || e >= config.numExperts) {
      throw new RangeError(`loadModel: expert ${e} requested for layer ${layer}, the model has experts 0..${config.numExperts - 1}`);
    }
  }
  return [...new Set(ids)].sort((a, b) => a - b);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The largest N in tensor names matching `pattern` (one capture group), or -1. */
function highestIndex(checkpoint: SafetensorsCheckpoint, pattern: RegExp): number {
  let highest = -1;
  for (const file of checkpoint.files) {
    for (const name of file.entries.keys()) {
      const m = pattern.exec(name);
      if (m) highest = Math.max(highest, Number(m[1]));
    }
  }
  return highest;
}

/**
 * The counts in config.json that size everything (layers, experts) must be ones the checkpoint holds, checked
 * from the headers before anything is enumerated or allocated in proportion to them.
 */
function checkCounts(config: ModelConfig, checkpoint: SafetensorsCheckpoint, configFile: string): void {
  const layers = highestIndex(checkpoint, /^model\.layers\.(\d+)\./) + 1;
  if (config.numLayers > layers) {
    throw new CheckpointError(configFile, `num_hidden_layers is ${config.numLayers}, but ${checkpoint.source} holds tensors for ${layers} layers`);
  }
  if (!config.layerKinds.includes('moe')) return;
  const experts = highestIndex(checkpoint, /\.experts\.(\d+)\./) + 1;
  if (config.numExperts > experts) {
    const key = expertsKey(config.raw, config.arch === 'mixtral' ? 'num_local_experts' : 'num_experts');
    throw new CheckpointError(configFile, `${key} is ${config.numExperts}, but ${checkpoint.source} holds tensors for ${experts} experts`);
  }
}

/** Every tensor the config implies must be present, with its shape and a supported dtype, before anything is read. */
function checkSpecs(checkpoint: SafetensorsCheckpoint, specs: Iterable<TensorSpec>): void {
  for (const spec of specs) {
    const located = checkpoint.locate(spec.name);
    if (!located) throw new CheckpointError(checkpoint.source, `missing tensor ${spec.name}`);
    const { file, entry } = located;
    if (!sameShape(entry.shape, spec.shape)) {
      throw new CheckpointError(
        file.path,
        `tensor ${spec.name} has shape [${entry.shape.join(', ')}], config.json implies [${spec.shape.join(', ')}]`,
      );
    }
    if (!dtypeFromSafetensors(entry.dtypeName)) {
      throw new CheckpointError(
        file.path,
        `tensor ${spec.name} has unsupported dtype ${entry.dtypeName} (supported: ${SUPPORTED_SAFETENSORS_DTYPES.join(', ')})`,
      );
    }
  }
}

/**
 * Loads a Hugging Face checkpoint directory (config.json + safetensors, single or sharded). The whole
 * checkpoint is checked against the config from its headers first, so a bad checkpoint fails before any
 * weight is read; then only the selected tensors are read, each with positional reads of its own bytes.
 */
export async function loadModel(dir: string, options: LoadOptions = {}): Promise<LoadedModel> {
  const config = await readModelConfig(dir);
  const withAttention = options.attentionSide ?? true;
  const selection = options.experts ?? 'all';

  const checkpoint = await SafetensorsCheckpoint.open(dir);
  try {
    checkCounts(config, checkpoint, join(dir, CONFIG_FILE));
    const expertIds = Array.from({ length: config.numLayers }, (_, layer) => selectedExperts(config, selection, layer));
    checkSpecs(checkpoint, checkpointSpecs(config));
    const tensorsRead: string[] = [];
    const read = async (spec: TensorSpec): Promise<Tensor> => {
      tensorsRead.push(spec.name);
      return checkpoint.read(spec.name);
    };

    let attentionSide;
    if (withAttention) {
      const specs = attentionSideSpecs(config);
      const loaded = new Map<TensorSpec, Tensor>();
      for (const leaf of attentionSideLeaves(specs)) loaded.set(leaf, await read(leaf));
      attentionSide = mapAttentionSide(specs, (leaf) => loaded.get(leaf)!);
    }
    const experts: Map<number, MlpParams<Tensor>>[] = [];
    for (let layer = 0; layer < config.numLayers; layer++) {
      const held = new Map<number, MlpParams<Tensor>>();
      for (const e of expertIds[layer]) {
        const specs = expertSpecs(config, layer, e);
        held.set(e, { gate: await read(specs.gate), up: await read(specs.up), down: await read(specs.down) });
      }
      experts.push(held);
    }
    return { model: new MoeModel(config, dir, attentionSide, experts), bytesRead: checkpoint.bytesRead, tensorsRead };
  } finally {
    await checkpoint.close();
  }
}
