import { type FileHandle, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Tensor } from '@asap/runtime';
import { dtypeToSafetensors } from './dtypes.ts';
import { INDEX_FILE, SINGLE_FILE } from './checkpoint-files.ts';

/** One write() is one syscall, which Linux caps near 2 GiB: loop until every byte is down. */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    if (bytesWritten === 0) throw new Error(`writeSafetensors: the file system accepted no bytes at offset ${done}`);
    done += bytesWritten;
  }
}

export type NamedTensors = readonly (readonly [string, Tensor])[];

/** Writes one .safetensors file: tensors in the given order, header padded with spaces to 8 bytes, as the format does. */
export async function writeSafetensors(
  path: string,
  tensors: NamedTensors,
  metadata: Readonly<Record<string, string>> = { format: 'pt' },
): Promise<number> {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: dtypeToSafetensors(t.dtype), shape: t.shape, data_offsets: [offset, offset + t.byteLength] };
    offset += t.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const lengthBytes = Buffer.alloc(8);
  lengthBytes.writeBigUInt64LE(BigInt(headerBytes.length));

  const handle = await open(path, 'w');
  try {
    for (const bytes of [lengthBytes, headerBytes, ...tensors.map(([, t]) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength))]) {
      await writeAll(handle, bytes);
    }
  } finally {
    await handle.close();
  }
  return offset;
}

/**
 * Writes a model's weights into `dir`: `model.safetensors`, or with `shards > 1` the files
 * `model-0000i-of-0000n.safetensors` plus `model.safetensors.index.json`, split in order into runs of about
 * equal bytes. Returns the file names written.
 */
export async function writeCheckpointWeights(dir: string, tensors: NamedTensors, shards = 1): Promise<string[]> {
  if (!Number.isInteger(shards) || shards < 1 || shards > tensors.length) {
    throw new RangeError(`writeCheckpointWeights: shards must be an integer in 1..${tensors.length}, got ${shards}`);
  }
  if (shards === 1) {
    await writeSafetensors(join(dir, SINGLE_FILE), tensors);
    return [SINGLE_FILE];
  }
  const total = tensors.reduce((n, [, t]) => n + t.byteLength, 0);
  const groups: (readonly [string, Tensor])[][] = Array.from({ length: shards }, () => []);
  let shard = 0;
  let before = 0;
  tensors.forEach((entry, i) => {
    // Move on once this shard holds its share of bytes, or when every later shard needs one of the tensors left.
    const full = before * shards >= (shard + 1) * total;
    const needed = tensors.length - i === shards - shard - 1;
    if (groups[shard].length > 0 && shard < shards - 1 && (full || needed)) shard++;
    groups[shard].push(entry);
    before += entry[1].byteLength;
  });
  const pad = (n: number) => String(n).padStart(5, '0');
  const names = groups.map((_, i) => `model-${pad(i + 1)}-of-${pad(shards)}.safetensors`);
  const weightMap: Record<string, string> = {};
  for (let i = 0; i < shards; i++) {
    await writeSafetensors(join(dir, names[i]), groups[i]);
    for (const [name] of groups[i]) weightMap[name] = names[i];
  }
  const index = { metadata: { total_size: total }, weight_map: weightMap };
  await writeFile(join(dir, INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
  return [...names, INDEX_FILE];
}
