// The shared ring: one per directed pair (single producer, single consumer). The first bytes hold the
// control words, each side's on its own cache line so the two threads do not fight over one line.
import { CACHE_LINE, roundUp } from '../memory/align.ts';

import { allocateShared } from '../tensor/tensor.ts';

/** A ring as plain data: postMessage it to the sending and the receiving worker (the buffer is shared, not copied). */
export interface RingDescriptor {
  readonly name: string;
  readonly buffer: SharedArrayBuffer;
  readonly capacityBytes: number;
}

/** Records and tensor payloads start on a cache line: aligned for every dtype and for fast copies. */
export const RECORD_ALIGN = CACHE_LINE;
/** Positions run over [0, 2 × capacity) so that a full ring and an empty one differ (head − tail). */
export const MAX_CAPACITY = 2 ** 30;

/**
 * A head or tail position moved on by `bytes`. Positions run over twice the capacity, so a full ring
 * (head − tail = capacity) and an empty one (head = tail) look different.
 */
export function advancePosition(position: number, bytes: number, capacity: number): number {
  const next = position + bytes;
  return next >= 2 * capacity ? next - 2 * capacity : next;
}

// Int32 indices of the control words.
export const HEAD = 0; // sender: write position
export const DATA_BELL = 1; // sender: bumped to wake a sleeping receiver
export const SENDER_SLEEPING = 2; // sender: 1 while it waits for space in Atomics.waitAsync
export const SENDER_STATE = 3; // sender: 0 open, 1 closed (no more messages)
export const SENDER_CLAIMED = 4;
export const SENDER_BUSY = 5; // sender: bytes of the large record it is copying in now (0: none)
export const STREAM_POS = 6; // sender: 1 + the position of the large record it is copying in now (0: none)
export const STREAM_DONE = 7; // sender: how much of that record is written (0: not even its header)
export const TAIL = 16; // receiver: read position
export const SPACE_BELL = 17; // receiver: bumped to wake a sleeping sender
export const RECEIVER_SLEEPING = 18; // receiver: 1 while it waits for data in Atomics.waitAsync
export const RECEIVER_STATE = 19; // receiver: 0 open, 1 closed (stopped reading)
export const RECEIVER_CLAIMED = 20;
export const RECEIVER_BUSY = 21; // receiver: bytes of the large record it is copying out now (0: none)
export const ABORTED = 32; // anyone: 1 once abortRing was called; the reason follows
export const REASON_BYTES = 33; // byte length of the UTF-8 reason at REASON_OFFSET
export const REASON_OFFSET = 192;
export const REASON_CAPACITY = 320;
/** Where the data region starts in the buffer. */
export const DATA_OFFSET = 512;

/** Allocates a ring of at least `capacityBytes` (rounded up to 64) for one directed pair. */
export function createRing(name: string, capacityBytes: number): RingDescriptor {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('createRing: a channel needs a non-empty name');
  if (!Number.isInteger(capacityBytes) || capacityBytes < RECORD_ALIGN || capacityBytes > MAX_CAPACITY) {
    throw new RangeError(
      `createRing "${name}": capacity must be an integer from ${RECORD_ALIGN} to ${MAX_CAPACITY} bytes, got ${capacityBytes}`,
    );
  }
  const capacity = roundUp(capacityBytes, RECORD_ALIGN);
  return { name, buffer: allocateShared(DATA_OFFSET + capacity, `createRing "${name}"`), capacityBytes: capacity };
}

/** Checks a descriptor that came through postMessage or from user code. */
export function checkRing(ring: RingDescriptor, who: string): void {
  const ok =
    ring !== null &&
    typeof ring === 'object' &&
    typeof ring.name === 'string' &&
    ring.buffer instanceof SharedArrayBuffer &&
    Number.isInteger(ring.capacityBytes) &&
    ring.capacityBytes % RECORD_ALIGN === 0 &&
    ring.capacityBytes > 0 &&
    ring.buffer.byteLength === DATA_OFFSET + ring.capacityBytes;
  if (!ok) throw new TypeError(`${who}: not a ring descriptor made by createRing (${String(ring?.name)})`);
}

/** Claims one end of a ring: a ring has exactly one sender and one receiver. */
export function claimEnd(ring: RingDescriptor, control: Int32Array, index: number, end: string): void {
  if (Atomics.compareExchange(control, index, 0, 1) !== 0) {
    throw new Error(`channel "${ring.name}": the ring already has a ${end}; each directed pair needs its own ring`);
  }
}

/**
 * Fails a channel from any thread (e.g. a supervisor that saw a peer die): pending and later sends reject,
 * and the receiver's inbox errors after draining what was already sent. Both ends are woken.
 */
export function abortRing(ring: RingDescriptor, reason: string): void {
  checkRing(ring, 'abortRing');
  const control = new Int32Array(ring.buffer, 0, DATA_OFFSET / 4);
  if (Atomics.compareExchange(control, ABORTED, 0, 2) === 0) {
    const bytes = Buffer.from(reason, 'utf8').subarray(0, REASON_CAPACITY);
    new Uint8Array(ring.buffer, REASON_OFFSET, REASON_CAPACITY).set(bytes);
    Atomics.store(control, REASON_BYTES, bytes.length);
    Atomics.store(control, ABORTED, 1);
  }
  ringBell(control, DATA_BELL);
  ringBell(control, SPACE_BELL);
}

/** The abort reason, or undefined while the ring is not aborted. */
export function abortReason(ring: RingDescriptor, control: Int32Array): string | undefined {
  if (Atomics.load(control, ABORTED) !== 1) return undefined;
  const length = Atomics.load(control, REASON_BYTES);
  return Buffer.from(ring.buffer, REASON_OFFSET, length).toString('utf8');
}

export function ringBell(control: Int32Array, bell: number): void {
  Atomics.add(control, bell, 1);
  Atomics.notify(control, bell);
}

export function controlWords(ring: RingDescriptor): Int32Array {
  return new Int32Array(ring.buffer, 0, DATA_OFFSET / 4);
}
