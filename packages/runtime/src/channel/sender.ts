import { DEFAULT_POLL_US, Doorbell, LARGE_RECORD_BYTES, type RingEndOptions, wakeIfSleeping } from './doorbell.ts';
import { ChannelClosedError, MessageTooLargeError } from '../errors.ts';
import type { ChannelMessage, ChannelSender } from './message.ts';
import { type EncodedMessage, type KindIds, type RingMemory, WRAP, encodeMessage, ringMemory, writeHeader, writeTensors } from './record.ts';
import {
  DATA_BELL,
  DATA_OFFSET,
  HEAD,
  RECEIVER_BUSY,
  RECEIVER_SLEEPING,
  RECEIVER_STATE,
  type RingDescriptor,
  SENDER_BUSY,
  SENDER_CLAIMED,
  SENDER_SLEEPING,
  SENDER_STATE,
  SPACE_BELL,
  STREAM_DONE,
  STREAM_POS,
  TAIL,
  abortReason,
  advancePosition,
  checkRing,
  claimEnd,
  controlWords,
  ringBell,
} from './ring.ts';

/** A large record is written (and announced to the receiver) this many bytes at a time. */
const STREAM_CHUNK_BYTES = 256 * 1024;

export interface RingSenderOptions extends RingEndOptions {
  /**
   * Most sends waiting for ring space at once (default 1024). One more rejects with a RangeError, so a burst
   * of unawaited sends cannot hold unbounded memory; await sends (or bound the work that makes them).
   */
  readonly maxQueued?: number;
}

interface Pending {
  readonly encoded: EncodedMessage;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** The sending end: writes records in place and publishes them by moving `head`. */
class RingSender implements ChannelSender {
  readonly name: string;
  private readonly ring: RingDescriptor;
  private readonly control: Int32Array;
  private readonly memory: RingMemory;
  private readonly kinds: KindIds = new Map();
  private readonly capacity: number;
  private readonly space: Doorbell;
  private readonly queue: Pending[] = [];
  private readonly maxQueued: number;
  private head: number;
  /** The tail the last failed write saw: the sender waits for the receiver to move past it. */
  private seenTail = 0;
  private pumping = false;
  private closing = false;

  constructor(ring: RingDescriptor, options: RingSenderOptions) {
    checkRing(ring, 'ringSender');
    this.maxQueued = options.maxQueued ?? 1024;
    if (!Number.isInteger(this.maxQueued) || this.maxQueued < 1) {
      throw new RangeError(`ringSender "${ring.name}": maxQueued must be a positive integer, got ${options.maxQueued}`);
    }
    this.ring = ring;
    this.name = ring.name;
    this.control = controlWords(ring);
    claimEnd(ring, this.control, SENDER_CLAIMED, 'sender');
    this.memory = ringMemory(ring.buffer);
    this.capacity = ring.capacityBytes;
    this.space = new Doorbell(this.control, SPACE_BELL, SENDER_SLEEPING, RECEIVER_BUSY, options.pollUs ?? DEFAULT_POLL_US, options.keepAlive);
    this.head = Atomics.load(this.control, HEAD);
  }

  send(message: ChannelMessage): Promise<void> {
    let encoded: EncodedMessage;
    try {
      encoded = this.encode(message);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.queue.length === 0 && this.tryWrite(encoded)) return Promise.resolve();
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(
        new RangeError(`channel "${this.name}": ${this.queue.length} sends already wait for ring space (maxQueued); await sends before making more`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ encoded, resolve, reject });
      if (!this.pumping) void this.pump();
    });
  }

  trySend(message: ChannelMessage): boolean {
    const encoded = this.encode(message);
    return this.queue.length === 0 && this.tryWrite(encoded);
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (!this.pumping) this.publishClose();
  }

  private encode(message: ChannelMessage): EncodedMessage {
    const closed = this.closedReason();
    if (closed !== undefined) throw new ChannelClosedError(this.name, closed);
    const encoded = encodeMessage(this.name, message);
    if (encoded.recordBytes > this.capacity) throw new MessageTooLargeError(this.name, encoded.recordBytes, this.capacity);
    return encoded;
  }

  private closedReason(): string | undefined {
    return this.closing ? 'cannot send: the sender closed the channel' : this.peerClosedReason();
  }

  /** Writes the record if it fits now (first skipping the ring's tail end with WRAP when it does not fit there). */
  private tryWrite(m: EncodedMessage): boolean {
    const cap = this.capacity;
    const tail = Atomics.load(this.control, TAIL);
    this.seenTail = tail;
    let used = this.head - tail;
    if (used < 0) used += 2 * cap;
    let free = cap - used;
    let offset = this.head >= cap ? this.head - cap : this.head;
    const toEnd = cap - offset;
    if (m.recordBytes > toEnd) {
      if (free < toEnd) return false;
      this.memory.words[(DATA_OFFSET + offset) >> 2] = WRAP;
      this.publish(toEnd);
      free -= toEnd;
      offset = 0;
    }
    if (m.recordBytes > free) return false;
    const at = DATA_OFFSET + offset;
    if (m.recordBytes < LARGE_RECORD_BYTES) {
      writeHeader(this.memory, this.kinds, at, m);
      writeTensors(this.memory, at, m, Infinity);
      this.publish(m.recordBytes);
      return true;
    }
    // A large record streams: the receiver learns where it is and how much is written, copies out behind
    // this copy (the two overlap, and the bytes are still in cache), and is woken now rather than after.
    const control = this.control;
    Atomics.store(control, STREAM_DONE, 0);
    Atomics.store(control, STREAM_POS, this.head + 1);
    Atomics.store(control, SENDER_BUSY, m.recordBytes);
    wakeIfSleeping(control, DATA_BELL, RECEIVER_SLEEPING);
    Atomics.store(control, STREAM_DONE, writeHeader(this.memory, this.kinds, at, m));
    writeTensors(this.memory, at, m, STREAM_CHUNK_BYTES, (done) => Atomics.store(control, STREAM_DONE, done));
    Atomics.store(control, SENDER_BUSY, 0);
    this.publish(m.recordBytes);
    Atomics.store(control, STREAM_POS, 0);
    return true;
  }

  private publish(bytes: number): void {
    const head = advancePosition(this.head, bytes, this.capacity);
    this.head = head;
    Atomics.store(this.control, HEAD, head);
    wakeIfSleeping(this.control, DATA_BELL, RECEIVER_SLEEPING);
  }

  /** Writes queued messages in order as the receiver frees space (backpressure). */
  private async pump(): Promise<void> {
    this.pumping = true;
    while (this.queue.length > 0) {
      const closed = this.peerClosedReason();
      if (closed !== undefined) {
        for (const p of this.queue.splice(0)) p.reject(new ChannelClosedError(this.name, closed));
        break;
      }
      const next = this.queue[0];
      if (this.tryWrite(next.encoded)) {
        this.queue.shift();
        next.resolve();
        continue;
      }
      const tail = this.seenTail;
      await this.space.wait(() => Atomics.load(this.control, TAIL) !== tail || this.peerClosedReason() !== undefined);
    }
    this.pumping = false;
    if (this.closing) this.publishClose();
  }

  private peerClosedReason(): string | undefined {
    const aborted = abortReason(this.ring, this.control);
    if (aborted !== undefined) return `cannot send: the channel was aborted: ${aborted}`;
    if (Atomics.load(this.control, RECEIVER_STATE) !== 0) return 'cannot send: the receiver closed the channel';
    return undefined;
  }

  private publishClose(): void {
    this.space.dispose();
    if (Atomics.compareExchange(this.control, SENDER_STATE, 0, 1) === 0) ringBell(this.control, DATA_BELL);
  }
}

/** The sending end of `ring`, for the one thread that sends on it. */
export function ringSender(ring: RingDescriptor, options: RingSenderOptions = {}): ChannelSender {
  return new RingSender(ring, options);
}
