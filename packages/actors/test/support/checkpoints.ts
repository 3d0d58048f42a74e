// Test support: temporary model directories and surgery on safetensors headers.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ArchName, generateModel } from '@asap/actors';

export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
export const FIXTURE_NAMES = ['mixtral-F32', 'qwen2_moe-F32', 'qwen3_moe-F32', 'qwen3_moe-BF16', 'deepseek_v3-F32'] as const;

export interface FixtureCase {
  readonly tokens: number[];
  readonly firstToken: number;
  readonly lastLogits: number[];
}

export async function fixtureCases(name: string): Promise<FixtureCase[]> {
  return JSON.parse(await readFile(join(FIXTURES_DIR, name, 'cases.json'), 'utf8')).cases;
}

/** Runs `body` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'asap-model-test-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A tiny generated checkpoint in a fresh temporary directory. */
export async function withTinyModel<T>(
  arch: ArchName,
  body: (dir: string) => Promise<T>,
  options: { seed?: number; shards?: number; dtype?: 'f32' | 'bf16' } = {},
): Promise<T> {
  return withTempDir(async (dir) => {
    await generateModel({ arch, preset: 'tiny', seed: options.seed ?? 1, out: dir, shards: options.shards, dtype: options.dtype });
    return body(dir);
  });
}

export interface SafetensorsParts {
  header: Record<string, unknown>;
  data: Buffer;
}

export async function readSafetensorsParts(path: string): Promise<SafetensorsParts> {
  const bytes = await readFile(path);
  const length = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')), data: bytes.subarray(8 + length) };
}

export async function writeSafetensorsParts(path: string, parts: SafetensorsParts): Promise<void> {
  const json = Buffer.from(JSON.stringify(parts.header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  await writeFile(path, Buffer.concat([length, json, parts.data]));
}

/** Rewrites a safetensors file's header in place, keeping its data section. */
export async function editHeader(path: string, edit: (header: Record<string, unknown>) => void): Promise<void> {
  const parts = await readSafetensorsParts(path);
  edit(parts.header);
  await writeSafetensorsParts(path, parts);
}

export async function editConfig(dir: string, edit: (config: Record<string, unknown>) => void): Promise<void> {
  const path = join(dir, 'config.json');
  const config = JSON.parse(await readFile(path, 'utf8'));
  edit(config);
  await writeFile(path, JSON.stringify(config));
}
