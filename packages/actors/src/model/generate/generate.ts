import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SeededRandom, Tensor } from '@asap/runtime';
import { CONFIG_FILE, parseModelConfig } from '../config/parse.ts';
import type { ArchName, ModelConfig } from '../config/model-config.ts';
import { INDEX_FILE, SINGLE_FILE } from '../safetensors/checkpoint-files.ts';
import { writeCheckpointWeights } from '../safetensors/write.ts';
import { checkpointSpecs } from '../weights/names.ts';
import type { TensorSpec } from '../weights/params.ts';
import { PRESETS, presetConfigJson, type ModelPreset, type PresetName } from './presets.ts';

export interface GenerateOptions {
  readonly arch: ArchName;
  readonly preset: PresetName | ModelPreset;
  readonly seed: number;
  /** Directory to write; created if missing. Checkpoint files already there are replaced. */
  readonly out: string;
  /** Storage dtype of the weights. Default f32. */
  readonly dtype?: 'f32' | 'bf16';
  /** Split the weights over this many shards with an index (default 1: a single model.safetensors). */
  readonly shards?: number;
}

export interface GeneratedModel {
  readonly dir: string;
  readonly config: ModelConfig;
  /** Files written, relative to `dir`. */
  readonly files: readonly string[];
}

/**
 * Uniform initialisation that keeps activations near unit scale: norm weights near 1, small biases (and
 * router correction biases),
 * unit-variance embeddings, Linear weights with variance 1/fan_in, and a router twice as sharp so
 * routing is decisive yet spread over the experts.
 */
function initRange(spec: TensorSpec): { center: number; halfWidth: number } {
  const [rows, cols] = spec.shape;
  if (spec.shape.length === 1) return /[._]bias$/.test(spec.name) ? { center: 0, halfWidth: 0.1 } : { center: 1, halfWidth: 0.1 };
  if (spec.name === 'model.embed_tokens.weight') return { center: 0, halfWidth: Math.sqrt(3) };
  const router = /\.gate\.weight$/.test(spec.name) && rows > 1;
  return { center: 0, halfWidth: (router ? 2 : 1) * Math.sqrt(3 / cols) };
}

/** One tensor's deterministic values: a function of the seed and the tensor's name only. */
export function generateTensor(spec: TensorSpec, seed: number, dtype: 'f32' | 'bf16' = 'f32'): Tensor {
  const random = SeededRandom.forName(seed, spec.name);
  const { center, halfWidth } = initRange(spec);
  const values = new Float32Array(spec.shape.reduce((n, d) => n * d, 1));
  for (let i = 0; i < values.length; i++) values[i] = center + random.symmetric(halfWidth);
  return Tensor.fromF32(values, spec.shape, dtype);
}

function resolvePreset(preset: PresetName | ModelPreset): ModelPreset {
  if (typeof preset !== 'string') return preset;
  const found = PRESETS[preset];
  if (!found) throw new RangeError(`generateModel: unknown preset ${JSON.stringify(preset)} (known: ${Object.keys(PRESETS).join(', ')})`);
  return found;
}

/** Writes a deterministic random checkpoint: same options, byte-identical files. */
export async function generateModel(options: GenerateOptions): Promise<GeneratedModel> {
  const { arch, seed, out } = options;
  const dtype = options.dtype ?? 'f32';
  if (!Number.isSafeInteger(seed)) throw new RangeError(`generateModel: seed must be an integer, got ${seed}`);
  const json = presetConfigJson(arch, resolvePreset(options.preset), dtype === 'bf16' ? 'bfloat16' : 'float32');
  const config = parseModelConfig(json, `${arch} preset`);

  await mkdir(out, { recursive: true });
  // A stale single file would win over new shards (and a stale index confuse readers): clear old weights.
  for (const name of await readdir(out)) {
    if (name === SINGLE_FILE || name === INDEX_FILE || /^model-\d+-of-\d+\.safetensors$/.test(name)) await rm(join(out, name));
  }
  await writeFile(join(out, CONFIG_FILE), `${JSON.stringify(json, null, 2)}\n`);
  const tensors = checkpointSpecs(config).map((spec) => [spec.name, generateTensor(spec, seed, dtype)] as const);
  const files = await writeCheckpointWeights(out, tensors, options.shards ?? 1);
  return { dir: out, config, files: [CONFIG_FILE, ...files] };
}
