import { CheckpointError } from '../../errors.ts';
import { safetensorsElementBytes } from './dtypes.ts';

/** One tensor as a safetensors header describes it; `begin`/`end` are absolute byte positions in the file. */
export interface SafetensorsEntry {
  readonly name: string;
  /** The dtype as the header spells it (F32, BF16, ...). */
  readonly dtypeName: string;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The format caps the header at 100 MB; a larger length field means a corrupt or foreign file. */
export const MAX_HEADER_BYTES = 100_000_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Checks and indexes a header's JSON. `dataStart` is where the data section begins (8 + header length) and
 * `fileSize` the file's size, so every tensor's byte range is checked against what is really there.
 */
export function parseSafetensorsHeader(
  json: string,
  dataStart: number,
  fileSize: number,
  file: string,
): SafetensorsHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new CheckpointError(file, `header is not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(parsed)) throw new CheckpointError(file, 'header is not a JSON object');

  const dataSize = fileSize - dataStart;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) {
        throw new CheckpointError(file, 'header __metadata__ must map strings to strings');
      }
      metadata = value as Record<string, string>;
      continue;
    }
    if (!isRecord(value)) throw new CheckpointError(file, `header entry for tensor ${name} is not an object`);
    const { dtype, shape, data_offsets: offsets } = value;
    if (typeof dtype !== 'string') throw new CheckpointError(file, `tensor ${name}: dtype is missing or not a string`);
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw new CheckpointError(file, `tensor ${name}: shape must be an array of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      throw new CheckpointError(file, `tensor ${name}: data_offsets must be [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataSize) {
      throw new CheckpointError(
        file,
        `truncated: tensor ${name} needs data bytes [${begin}, ${end}) but the data section holds only ${dataSize}`,
      );
    }
    const elementBytes = safetensorsElementBytes(dtype);
    if (elementBytes !== undefined) {
      const expected = (shape as number[]).reduce((n, d) => n * d, 1) * elementBytes;
      if (end - begin !== expected) {
        throw new CheckpointError(
          file,
          `tensor ${name}: data_offsets span ${end - begin} bytes but ${dtype} [${shape.join(', ')}] needs ${expected}`,
        );
      }
    }
    entries.set(name, { name, dtypeName: dtype, shape: shape as number[], begin: dataStart + begin, end: dataStart + end });
  }
  return { entries, metadata };
}
