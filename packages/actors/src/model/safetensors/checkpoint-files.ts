import { access, readFile } from 'node:fs/promises';
import { join, relative, resolve, isAbsolute } from 'node:path';
import type { Tensor } from '@asap/runtime';
import { CheckpointError } from '../../errors.ts';
import { SafetensorsFile } from './file.ts';
import type { SafetensorsEntry } from './header.ts';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export interface LocatedTensor {
  readonly file: SafetensorsFile;
  readonly entry: SafetensorsEntry;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * The safetensors of a model directory: `model.safetensors`, or the shards that
 * `model.safetensors.index.json` names (the single file wins when both exist, as in transformers).
 * Only headers are read on open.
 */
export class SafetensorsCheckpoint {
  /** The file to name when a tensor is missing altogether: the single file or the index. */
  readonly source: string;
  readonly files: readonly SafetensorsFile[];
  private readonly where: ReadonlyMap<string, LocatedTensor>;

  private constructor(source: string, files: readonly SafetensorsFile[], where: ReadonlyMap<string, LocatedTensor>) {
    this.source = source;
    this.files = files;
    this.where = where;
  }

  static async open(dir: string): Promise<SafetensorsCheckpoint> {
    const single = join(dir, SINGLE_FILE);
    if (await exists(single)) {
      const file = await SafetensorsFile.open(single);
      const where = new Map([...file.entries.values()].map((entry) => [entry.name, { file, entry }]));
      return new SafetensorsCheckpoint(single, [file], where);
    }
    const index = join(dir, INDEX_FILE);
    if (!(await exists(index))) {
      throw new CheckpointError(dir, `no weights: neither ${SINGLE_FILE} nor ${INDEX_FILE} is present`);
    }
    return SafetensorsCheckpoint.openSharded(dir, index);
  }

  /** Where a tensor is stored, or undefined when the checkpoint lacks it. */
  locate(name: string): LocatedTensor | undefined {
    return this.where.get(name);
  }

  async read(name: string): Promise<Tensor> {
    const located = this.where.get(name);
    if (!located) throw new CheckpointError(this.source, `missing tensor ${name}`);
    return located.file.read(name);
  }

  /** Bytes read from disk so far, headers included. */
  get bytesRead(): number {
    return this.files.reduce((n, f) => n + f.bytesRead, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }

  private static async openSharded(dir: string, index: string): Promise<SafetensorsCheckpoint> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(index, 'utf8'));
    } catch (error) {
      throw new CheckpointError(index, `not valid JSON (${(error as Error).message})`);
    }
    const weightMap = (parsed as { weight_map?: unknown } | null)?.weight_map;
    if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
      throw new CheckpointError(index, 'weight_map is missing or not an object');
    }
    const shardOf = new Map<string, string>();
    for (const [name, shard] of Object.entries(weightMap)) {
      if (typeof shard !== 'string') throw new CheckpointError(index, `weight_map entry for ${name} is not a file name`);
      const rel = relative(resolve(dir), resolve(dir, shard));
      if (rel.startsWith('..') || isAbsolute(rel)) {
        throw new CheckpointError(index, `weight_map entry for ${name} points outside the model directory: ${shard}`);
      }
      shardOf.set(name, shard);
    }

    const files = new Map<string, SafetensorsFile>();
    try {
      for (const shard of new Set(shardOf.values())) files.set(shard, await SafetensorsFile.open(join(dir, shard)));
    } catch (error) {
      await Promise.all([...files.values()].map((f) => f.close()));
      throw error;
    }
    const where = new Map<string, LocatedTensor>();
    for (const [name, shard] of shardOf) {
      const file = files.get(shard)!;
      const entry = file.entries.get(name);
      if (!entry) {
        await Promise.all([...files.values()].map((f) => f.close()));
        throw new CheckpointError(file.path, `missing tensor ${name} (${INDEX_FILE} maps it to this shard)`);
      }
      where.set(name, { file, entry });
    }
    return new SafetensorsCheckpoint(index, [...files.values()], where);
  }
}
