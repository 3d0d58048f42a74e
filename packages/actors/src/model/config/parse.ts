import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError } from '../../errors.ts';
import { parseDeepseekV3 } from './deepseek-v3.ts';
import { ConfigFields } from './fields.ts';
import { parseMixtral } from './mixtral.ts';
import { ARCH_NAMES, type ArchName, type ModelConfig } from './model-config.ts';
import { parseQwen2Moe } from './qwen2-moe.ts';
import { parseQwen3Moe } from './qwen3-moe.ts';

const PARSERS: Readonly<Record<ArchName, (fields: ConfigFields) => ModelConfig>> = {
  mixtral: parseMixtral,
  qwen2_moe: parseQwen2Moe,
  qwen3_moe: parseQwen3Moe,
  deepseek_v3: parseDeepseekV3,
};

export const CONFIG_FILE = 'config.json';

/** Normalises a parsed config.json; `file` names it in errors. */
export function parseModelConfig(raw: unknown, file: string = CONFIG_FILE): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CheckpointError(file, 'not a JSON object');
  const record = raw as Record<string, unknown>;
  const type = record.model_type;
  if (typeof type !== 'string' || !(ARCH_NAMES as readonly string[]).includes(type)) {
    throw new CheckpointError(
      file,
      `${type === undefined ? 'missing model_type' : `unknown model_type ${JSON.stringify(type)}`} (supported: ${ARCH_NAMES.join(', ')})`,
    );
  }
  const config = PARSERS[type as ArchName](new ConfigFields(record, file));
  if (config.layerKinds.includes('moe') && config.topK > config.numExperts) {
    throw new CheckpointError(file, `num_experts_per_tok (${config.topK}) exceeds the number of experts (${config.numExperts})`);
  }
  return config;
}

/** A model directory must exist and be a directory: say which of the two the user got wrong. */
export async function checkModelDir(dir: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(dir)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CheckpointError(dir, code === 'ENOENT' || code === 'ENOTDIR' ? 'no such directory' : `cannot read (${code})`);
  }
  if (!isDirectory) throw new CheckpointError(dir, `is a file, not a model directory (give the directory that holds ${CONFIG_FILE} and the safetensors)`);
}

/** Reads and normalises `dir/config.json`. */
export async function readModelConfig(dir: string): Promise<ModelConfig> {
  await checkModelDir(dir);
  const file = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CheckpointError(file, code === 'ENOENT' ? 'missing config.json: not a model directory' : `cannot read (${code})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(file, `not valid JSON (${(error as Error).message})`);
  }
  return parseModelConfig(raw, file);
}
