// The embedded default model: generated from a seed on first use and cached, never downloaded.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ArchName, generateModel, type PresetName } from '@asap/actors';

export const DEFAULT_MODEL: { readonly arch: ArchName; readonly preset: PresetName; readonly seed: number } = {
  arch: 'qwen3_moe',
  preset: 'small',
  seed: 1,
};

const cacheRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules', '.cache', 'asap', 'models');

/** The default model's directory, generating it first if it is not cached yet. */
export async function defaultModelDir(): Promise<string> {
  const { arch, preset, seed } = DEFAULT_MODEL;
  const dir = join(cacheRoot, `${arch}-${preset}-seed${seed}`);
  if (existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'model.safetensors'))) return dir;
  // Generate beside the target and rename, so a concurrent or interrupted run never sees half a model. If
  // another run renamed its copy first, the rename fails and that copy (byte-identical: same seed) is used.
  await mkdir(cacheRoot, { recursive: true });
  const staging = await mkdtemp(join(cacheRoot, '.staging-'));
  try {
    await generateModel({ arch, preset, seed, out: staging });
    await rename(staging, dir);
  } catch (error) {
    if (!existsSync(join(dir, 'model.safetensors'))) throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return dir;
}
