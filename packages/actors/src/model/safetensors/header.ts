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
 * The first key that appears twice in the header's top-level object, or undefined. JSON.parse keeps the
 * last silently; the format forbids duplicates. Called on text JSON.parse accepted, so a plain scan suffices.
 */
function duplicateTopLevelKey(json: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      if (depth === 1) {
        let next = end + 1;
        while (/\s/.test(json[next])) next++;
        if (json[next] === ':') {
          const key = JSON.parse(json.slice(i, end + 1)) as string;
          if (seen.has(key)) return key;
          seen.add(key);
        }
      }
      i = end;
    }
  }
  return undefined;
}

/** Two tensors may not share bytes: the first pair of entries whose [begin, end) ranges overlap, if any. */
function overlappingPair(entries: Iterable<SafetensorsEntry>): [SafetensorsEntry, SafetensorsEntry] | undefined {
  const sorted = [...entries].filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) if (sorted[i].begin < sorted[i - 1].end) return [sorted[i - 1], sorted[i]];
  return undefined;
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
  const duplicate = duplicateTopLevelKey(json);
  if (duplicate !== undefined) throw new CheckpointError(file, `header names tensor ${duplicate} twice`);

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
  const overlap = overlappingPair(entries.values());
  if (overlap) {
    const [a, b] = overlap;
    const range = (e: SafetensorsEntry): string => `[${e.begin - dataStart}, ${e.end - dataStart})`;
    throw new CheckpointError(file, `tensors ${a.name} ${range(a)} and ${b.name} ${range(b)} overlap: each tensor must have bytes of its own`);
  }
  return { entries, metadata };
}
