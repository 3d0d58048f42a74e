// How one message is laid out in the ring (offsets relative to the record start, which is 64-aligned):
//   int32 [recordBytes, kindId, kindBytes, metaTag, metaBytes, tensorCount], float64 numeric meta
//   per tensor: int32 [dtype, rank, dataOffset, byteLength, ...shape]
//   kind (UTF-8, only the first time this kind is sent on the ring), meta (JSON, UTF-8), then each tensor's
//   bytes on a 64-byte boundary.
// Kinds are interned per ring and numeric meta (a sequence number, a deadline) skips JSON: decoding strings
// would otherwise cost more than the rest of a small message.
// A record never wraps: when it does not fit before the end, the sender writes WRAP and starts again at 0.
import { DTYPES, type DType } from '../tensor/dtype.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { ChannelMessage } from './message.ts';
import { roundUp } from '../memory/align.ts';
import { RECORD_ALIGN } from './ring.ts';
import { NOT_PLAIN, copyPlainData, plainJsonBytes } from './plain-data.ts';

export const WRAP = -1;

const META_NONE = 0;
const META_NUMBER = 1;
const META_JSON = 2;
const FIXED_BYTES = 32;
const TENSOR_WORDS = 4;

/** Views of one ring's memory, made once per end. */
export interface RingMemory {
  readonly bytes: Buffer;
  readonly words: Int32Array;
  readonly doubles: Float64Array;
}

export function ringMemory(buffer: SharedArrayBuffer): RingMemory {
  return { bytes: Buffer.from(buffer), words: new Int32Array(buffer), doubles: new Float64Array(buffer) };
}

/** A message measured and serialised once, ready to be written (possibly after a wait for space). */
export interface EncodedMessage {
  readonly kind: string;
  /** Room for the kind's bytes; written only when the receiver does not know the kind yet. */
  readonly kindBytes: number;
  readonly metaTag: number;
  readonly metaNumber: number;
  readonly metaJson: string;
  readonly metaBytes: number;
  readonly tensors: readonly Tensor[];
  readonly dataStart: number;
  readonly recordBytes: number;
}

/** The message's tensors, checked: an array of Tensors. */
function checkedTensors(channel: string, message: ChannelMessage): readonly Tensor[] {
  if (message === null || typeof message !== 'object' || typeof message.kind !== 'string') {
    throw new TypeError(`channel "${channel}": a message needs a string kind`);
  }
  const tensors = message.tensors ?? [];
  if (!Array.isArray(tensors)) throw new TypeError(`channel "${channel}": message "${message.kind}": tensors must be an array`);
  for (let i = 0; i < tensors.length; i++) {
    if (!(tensors[i] instanceof Tensor)) {
      throw new TypeError(`channel "${channel}": message "${message.kind}": tensors[${i}] is not a Tensor`);
    }
  }
  return tensors;
}

/** Where a record's tensor bytes start, for a kind and meta of these byte lengths and these tensors. */
function dataStartOf(kindBytes: number, metaBytes: number, tensors: readonly Tensor[]): number {
  let descriptorBytes = 0;
  for (let i = 0; i < tensors.length; i++) descriptorBytes += (TENSOR_WORDS + tensors[i].rank) * 4;
  return roundUp(FIXED_BYTES + descriptorBytes + kindBytes + metaBytes);
}

function tensorBytesOf(tensors: readonly Tensor[]): number {
  let dataBytes = 0;
  for (let i = 0; i < tensors.length; i++) dataBytes += roundUp(tensors[i].byteLength);
  return dataBytes;
}

export function encodeMessage(channel: string, message: ChannelMessage): EncodedMessage {
  const tensors = checkedTensors(channel, message);
  const meta = message.meta;
  let metaTag = META_NONE;
  let metaNumber = 0;
  let metaJson = '';
  if (typeof meta === 'number') {
    metaTag = META_NUMBER;
    metaNumber = meta;
  } else if (meta !== undefined) {
    const json = JSON.stringify(meta) as string | undefined;
    if (json === undefined) throw new TypeError(`channel "${channel}": message "${message.kind}": meta is not JSON-serialisable`);
    metaTag = META_JSON;
    metaJson = json;
  }
  const kindBytes = Buffer.byteLength(message.kind, 'utf8');
  const metaBytes = metaTag === META_JSON ? Buffer.byteLength(metaJson, 'utf8') : 0;
  const dataStart = dataStartOf(kindBytes, metaBytes, tensors);
  return {
    kind: message.kind,
    kindBytes,
    metaTag,
    metaNumber,
    metaJson,
    metaBytes,
    tensors,
    dataStart,
    recordBytes: dataStart + tensorBytesOf(tensors),
  };
}

/** A message as a host without a ring carries it: the record's size, and the meta its receiver reads. */
export interface MeasuredMessage {
  readonly recordBytes: number;
  readonly meta: unknown;
  readonly tensors: readonly Tensor[];
}

/**
 * What encodeMessage then receivedMeta give, without the meta's JSON text when the meta is plain data: its
 * bytes are counted and it is copied. Other metas take the JSON round trip, as a ring receiver would.
 */
export function measureMessage(channel: string, message: ChannelMessage): MeasuredMessage {
  const meta = message?.meta;
  // No meta, or a number (sent as is, outside the JSON), takes no meta bytes.
  const bare = meta === undefined || typeof meta === 'number';
  const metaBytes = bare ? 0 : plainJsonBytes(meta);
  if (metaBytes === undefined) {
    const encoded = encodeMessage(channel, message);
    return { recordBytes: encoded.recordBytes, meta: receivedMeta(encoded, meta), tensors: encoded.tensors };
  }
  const tensors = checkedTensors(channel, message);
  const recordBytes = dataStartOf(Buffer.byteLength(message.kind, 'utf8'), metaBytes, tensors) + tensorBytesOf(tensors);
  return { recordBytes, meta: bare ? meta : copyPlainData(meta), tensors };
}

/**
 * The meta a ring receiver would get for `m` (a number exactly, NaN and −0 included), for hosts without a
 * ring; `meta` is the value `m` was encoded from: plain data is copied without parsing its JSON back.
 */
export function receivedMeta(m: EncodedMessage, meta: unknown): unknown {
  if (m.metaTag === META_NONE) return undefined;
  if (m.metaTag === META_NUMBER) return m.metaNumber;
  const copy = copyPlainData(meta);
  return copy === NOT_PLAIN ? JSON.parse(m.metaJson) : copy;
}

/** The sender's half of kind interning: ids in the order kinds were first written to the ring. */
export type KindIds = Map<string, number>;
/** The receiver's half: the kinds by id. */
export type KindNames = string[];
const MAX_KINDS = 4096;

/**
 * Writes everything but the tensor bytes at byte `at` of the ring buffer (64-aligned); the caller has
 * checked the space. Returns where the tensor bytes start, relative to `at`.
 */
export function writeHeader(memory: RingMemory, kinds: KindIds, at: number, m: EncodedMessage): number {
  const { bytes, words, doubles } = memory;
  let kindId = kinds.get(m.kind);
  let kindBytes = 0;
  let kindField = 0; // 0: the receiver knows this kind; else 1 + the kind's byte length, which follows
  if (kindId === undefined) {
    kindId = kinds.size < MAX_KINDS ? kinds.size : -1;
    if (kindId >= 0) kinds.set(m.kind, kindId);
    kindBytes = m.kindBytes;
    kindField = 1 + kindBytes;
  }
  let w = at >> 2;
  words[w] = m.recordBytes;
  words[w + 1] = kindId;
  words[w + 2] = kindField;
  words[w + 3] = m.metaTag;
  words[w + 4] = m.metaBytes;
  words[w + 5] = m.tensors.length;
  doubles[(at + 24) >> 3] = m.metaNumber;
  w += FIXED_BYTES >> 2;
  let data = m.dataStart;
  for (const t of m.tensors) {
    words[w++] = DTYPES.indexOf(t.dtype);
    words[w++] = t.shape.length;
    words[w++] = data;
    words[w++] = t.byteLength;
    for (const d of t.shape) words[w++] = d;
    data += roundUp(t.byteLength);
  }
  const b = w << 2;
  if (kindBytes > 0) bytes.write(m.kind, b, kindBytes, 'utf8');
  if (m.metaBytes > 0) bytes.write(m.metaJson, b + kindBytes, m.metaBytes, 'utf8');
  return m.dataStart;
}

/**
 * Copies the tensors' bytes into the record at `at`, `chunkBytes` at a time; after each chunk `progress`
 * gets how far (relative to `at`) the record is written, so a receiver can copy out behind the sender.
 */
export function writeTensors(memory: RingMemory, at: number, m: EncodedMessage, chunkBytes: number, progress?: (done: number) => void): void {
  let data = m.dataStart;
  for (const t of m.tensors) {
    const source = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
    for (let from = 0; from < t.byteLength; from += chunkBytes) {
      const to = Math.min(from + chunkBytes, t.byteLength);
      memory.bytes.set(chunkBytes >= t.byteLength ? source : source.subarray(from, to), at + data + from);
      progress?.(data + to);
    }
    data += roundUp(t.byteLength);
  }
}

export interface TensorHeader {
  readonly dtype: DType;
  readonly shape: number[];
  readonly dataOffset: number;
  readonly byteLength: number;
}

/** The parsed header of the record at `at`, and the bytes its tensors need. */
export interface RecordHeader {
  readonly recordBytes: number;
  readonly kind: string;
  readonly meta: unknown;
  readonly tensors: readonly TensorHeader[];
  readonly tensorBytes: number;
}

export function readHeader(channel: string, memory: RingMemory, kinds: KindNames, at: number, limit: number): RecordHeader {
  const { bytes, words, doubles } = memory;
  let w = at >> 2;
  const recordBytes = words[w];
  const kindId = words[w + 1];
  const kindField = words[w + 2];
  const kindBytes = kindField - 1;
  const metaTag = words[w + 3];
  const metaBytes = words[w + 4];
  const count = words[w + 5];
  const known = kindField > 0 || kinds[kindId] !== undefined;
  if (recordBytes <= 0 || recordBytes % RECORD_ALIGN !== 0 || at + recordBytes > limit || !known || metaBytes < 0 || count < 0) {
    throw new Error(`channel "${channel}": corrupt record at ring offset ${at} (${recordBytes} bytes); is the ring shared by two senders?`);
  }
  w += FIXED_BYTES >> 2;
  const tensors: TensorHeader[] = [];
  let tensorBytes = 0;
  for (let i = 0; i < count; i++) {
    const dtype = DTYPES[words[w]];
    const rank = words[w + 1];
    const dataOffset = words[w + 2];
    const byteLength = words[w + 3];
    w += TENSOR_WORDS;
    const shape: number[] = [];
    for (let d = 0; d < rank; d++) shape.push(words[w++]);
    tensors.push({ dtype, shape, dataOffset, byteLength });
    tensorBytes += roundUp(byteLength);
  }
  const b = w << 2;
  let kind: string;
  if (kindField === 0) kind = kinds[kindId];
  else {
    kind = bytes.toString('utf8', b, b + kindBytes);
    if (kindId >= 0) kinds[kindId] = kind;
  }
  let meta: unknown;
  const metaAt = b + Math.max(0, kindBytes);
  if (metaTag === META_NUMBER) meta = doubles[(at + 24) >> 3];
  else if (metaTag === META_JSON) meta = JSON.parse(bytes.toString('utf8', metaAt, metaAt + metaBytes));
  return { recordBytes, kind, meta, tensors, tensorBytes };
}

/**
 * Copies the bytes of the record's tensors that lie in [from, to) (offsets relative to `at`) out of the
 * ring into `targets` (one per tensor, shaped as the header says). A whole record is [0, recordBytes).
 */
export function copyTensorsOut(memory: RingMemory, at: number, header: RecordHeader, targets: readonly Tensor[], from: number, to: number): void {
  const ring = memory.bytes.buffer;
  for (let i = 0; i < targets.length; i++) {
    const t = header.tensors[i];
    const start = Math.max(from, t.dataOffset);
    const end = Math.min(to, t.dataOffset + t.byteLength);
    if (start >= end) continue;
    const target = targets[i];
    new Uint8Array(target.buffer, target.byteOffset + (start - t.dataOffset), end - start).set(new Uint8Array(ring, at + start, end - start));
  }
}

export function messageOf(header: RecordHeader, targets: readonly Tensor[]): ChannelMessage {
  if (header.meta === undefined) return targets.length > 0 ? { kind: header.kind, tensors: targets } : { kind: header.kind };
  return targets.length > 0 ? { kind: header.kind, meta: header.meta, tensors: targets } : { kind: header.kind, meta: header.meta };
}
