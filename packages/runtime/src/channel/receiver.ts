import { Observable, type Subscriber } from 'rxjs';
import type { Arena } from '../tensor/arena.ts';
import { Tensor } from '../tensor/tensor.ts';
import { DEFAULT_POLL_US, Doorbell, LARGE_RECORD_BYTES, type RingEndOptions, wakeIfSleeping } from './doorbell.ts';
import { ChannelClosedError } from '../errors.ts';
import { ArenaLanding, FreshLanding } from './landing.ts';
import { type LeasedMessage, LeaseQueue } from './lease.ts';
import type { ChannelMessage, ChannelReceiver } from './message.ts';
import { type KindNames, type RecordHeader, type RingMemory, WRAP, copyTensorsOut, messageOf, readHeader, ringMemory } from './record.ts';
import {
  DATA_BELL,
  DATA_OFFSET,
  HEAD,
  RECEIVER_BUSY,
  RECEIVER_CLAIMED,
  RECEIVER_SLEEPING,
  RECEIVER_STATE,
  type RingDescriptor,
  SENDER_BUSY,
  SENDER_SLEEPING,
  SENDER_STATE,
  SPACE_BELL,
  STREAM_DONE,
  STREAM_POS,
  TAIL,
  abortReason,
  abortRing,
  advancePosition,
  checkRing,
  claimEnd,
  controlWords,
  ringBell,
} from './ring.ts';
import { yieldTurn } from '../memory/yield-turn.ts';

export interface RingReceiverOptions extends RingEndOptions {
  /**
   * Where received tensors are copied. Absent: fresh shared memory owned by the receiver and reclaimed by
   * GC (small messages share 64 KiB slabs). Present: the receiver allocates from this arena and stops
   * reading while it is full, so a consumer that releases tensors late holds the sender back (backpressure
   * end to end); the consumer must `arena.release` every received tensor, and the arena must hold the
   * largest message.
   */
  readonly arena?: Arena;
  /** Messages read in one go before yielding to the event loop. Default 64. */
  readonly maxBatch?: number;
  /**
   * Whether the consumer takes another message now. While false the receiver stops reading, so the ring
   * fills and the sender waits (backpressure); call `resume()` once it may hold again. Default: always.
   */
  readonly ready?: () => boolean;
  /**
   * Zero-copy receiving: deliver `LeasedMessage`s whose tensors are views into the ring (no copy out). A
   * leased tensor is valid until the message is released; holding leases holds ring space, so a consumer
   * that releases late holds the sender back. A large record is delivered once the sender has written it
   * whole. Not with `arena` (nothing is copied). Default false.
   */
  readonly lease?: boolean;
}

/** A ring's receiving end, which a consumer with its own limit (`ready`) wakes with `resume`. */
export interface RingChannelReceiver extends ChannelReceiver {
  /** The consumer may be ready again: the receiver looks at `ready()` and reads on if it holds. */
  resume(): void;
}

/** A ring's receiving end in lease mode: each message must be released to give its ring space back. */
export interface LeasingRingReceiver extends RingChannelReceiver {
  readonly inbox$: Observable<LeasedMessage>;
}

type Ending = { readonly kind: 'complete' } | { readonly kind: 'error'; readonly error: Error };

/** A large record the sender is still writing, copied out as far as it is written. */
interface StreamingRecord {
  readonly header: RecordHeader;
  readonly targets: Tensor[];
  copied: number;
}

/**
 * The receiving end. One read loop per receiver, started by the first subscription; it copies each record
 * out (so the slot is reused at once), frees the slot, then emits to every current subscriber (in lease mode
 * it emits views into the slot instead and frees it on release). While no one
 * is subscribed the loop reads nothing: messages wait in the ring and the sender feels backpressure.
 */
class RingReceiver implements RingChannelReceiver {
  readonly name: string;
  readonly inbox$: Observable<ChannelMessage>;
  private readonly ring: RingDescriptor;
  private readonly control: Int32Array;
  private readonly memory: RingMemory;
  private readonly kinds: KindNames = [];
  private readonly capacity: number;
  private readonly data: Doorbell;
  private readonly fresh = new FreshLanding();
  private readonly arena: ArenaLanding | undefined;
  /** Set in lease mode: the read position runs ahead of the published tail, which follows releases. */
  private readonly leases: LeaseQueue | undefined;
  private readonly maxBatch: number;
  private readonly ready: () => boolean;
  private readonly subscribers = new Set<Subscriber<ChannelMessage>>();
  private tail: number;
  private running = false;
  private ending: Ending | undefined;
  private wakeLoop: (() => void) | undefined;
  /** Set when the arena was full: the loop waits for these tensors, then the next drain uses them. */
  private placing: Promise<Tensor[]> | undefined;
  private placed: Tensor[] | undefined;
  /** Aborted when this end finishes: a wait for arena memory must not outlive the channel. */
  private readonly stopPlacing = new AbortController();
  private partial: StreamingRecord | undefined;

  constructor(ring: RingDescriptor, options: RingReceiverOptions) {
    checkRing(ring, 'ringReceiver');
    this.ring = ring;
    this.name = ring.name;
    this.control = controlWords(ring);
    claimEnd(ring, this.control, RECEIVER_CLAIMED, 'receiver');
    this.memory = ringMemory(ring.buffer);
    this.capacity = ring.capacityBytes;
    this.data = new Doorbell(this.control, DATA_BELL, RECEIVER_SLEEPING, SENDER_BUSY, options.pollUs ?? DEFAULT_POLL_US, options.keepAlive);
    if (options.lease && options.arena) {
      throw new TypeError(`ringReceiver "${ring.name}": lease and arena exclude each other (a leased message is not copied out)`);
    }
    this.arena = options.arena ? new ArenaLanding(options.arena, ring.name) : undefined;
    this.leases = options.lease ? new LeaseQueue((tail) => this.publishTail(tail)) : undefined;
    this.maxBatch = options.maxBatch ?? 64;
    this.ready = options.ready ?? (() => true);
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) {
      throw new RangeError(`ringReceiver "${ring.name}": maxBatch must be a positive integer, got ${options.maxBatch}`);
    }
    this.tail = Atomics.load(this.control, TAIL);
    this.inbox$ = new Observable<ChannelMessage>((subscriber) => {
      if (this.ending) {
        if (this.ending.kind === 'error') subscriber.error(this.ending.error);
        else subscriber.complete();
        return;
      }
      this.subscribers.add(subscriber);
      this.wakeLoop?.();
      if (!this.running) void this.run();
      return () => {
        this.subscribers.delete(subscriber);
        // A wait for data keeps the thread alive; with no one left to hand data to, stop waiting.
        if (this.subscribers.size === 0) this.data.interrupt();
      };
    });
  }

  resume(): void {
    this.wakeLoop?.();
  }

  close(): void {
    if (this.ending) return;
    Atomics.store(this.control, RECEIVER_STATE, 1);
    ringBell(this.control, SPACE_BELL);
    this.finish({ kind: 'complete' });
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.ending) {
        if (this.subscribers.size === 0 || !this.ready()) {
          await new Promise<void>((resolve) => (this.wakeLoop = resolve));
          this.wakeLoop = undefined;
          continue;
        }
        const read = this.drain();
        if (this.ending) break;
        if (this.placing) {
          const placed = await this.placing.catch((error: unknown) => {
            if (this.ending) return undefined;
            throw error;
          });
          this.placing = undefined;
          if (this.ending || !placed) {
            if (placed) this.arena?.release(placed);
            break;
          }
          this.placed = placed;
          continue;
        }
        if (read === this.maxBatch) await yieldTurn();
        if (read > 0) continue;
        // Read the sender's state before head: a sender that closed published all its records first.
        const senderClosed = Atomics.load(this.control, SENDER_STATE) !== 0;
        const aborted = abortReason(this.ring, this.control);
        if (Atomics.load(this.control, HEAD) !== this.tail) continue;
        if (aborted !== undefined) {
          this.finish({ kind: 'error', error: new ChannelClosedError(this.name, `the channel was aborted: ${aborted}`) });
        } else if (senderClosed) {
          this.finish({ kind: 'complete' });
        } else {
          await this.data.wait(() => this.ending !== undefined || this.subscribers.size === 0 || this.hasNews());
        }
      }
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      // This end stops reading for good: abort the ring so the sender fails now instead of once the ring fills.
      abortRing(this.ring, `the receiver failed: ${error.message}`);
      this.finish({ kind: 'error', error });
    } finally {
      this.running = false;
      this.data.dispose();
    }
  }

  private hasNews(): boolean {
    return (
      Atomics.load(this.control, HEAD) !== this.tail ||
      (!this.leases && this.streamedBytes() > (this.partial?.copied ?? 0)) ||
      Atomics.load(this.control, SENDER_STATE) !== 0 ||
      abortReason(this.ring, this.control) !== undefined
    );
  }

  /** How much of the record at `tail` the sender has written while still writing it (0: none or not known). */
  private streamedBytes(): number {
    // The sender stores DONE = 0 before it names a record in POS, and clears POS only after the record is
    // published, so a `done` read between two reads of POS that both name our record is about our record.
    // (POS cannot name our record again in between: the sender reuses a position only after the receiver
    // moves past it.)
    const pos = this.tail + 1;
    if (Atomics.load(this.control, STREAM_POS) !== pos) return 0;
    const done = Atomics.load(this.control, STREAM_DONE);
    return Atomics.load(this.control, STREAM_POS) === pos ? done : 0;
  }

  /** Reads up to maxBatch records and emits them; stops early when the arena is full (see `placing`). */
  private drain(): number {
    const cap = this.capacity;
    let read = 0;
    while (read < this.maxBatch && !this.ending && this.subscribers.size > 0 && this.ready()) {
      const complete = Atomics.load(this.control, HEAD) !== this.tail;
      const offset = this.tail >= cap ? this.tail - cap : this.tail;
      const at = DATA_OFFSET + offset;
      if (!complete) {
        if (!this.leases) this.copyBehindSender(at);
        break;
      }
      if (this.memory.words[at >> 2] === WRAP) {
        const end = this.advance(cap - offset);
        if (this.leases) this.leases.pass(end);
        continue;
      }
      if (this.leases) {
        const message = this.lease(at, this.leases);
        read++;
        for (const s of this.subscribers) s.next(message);
        continue;
      }
      const partial = this.partial;
      this.partial = undefined;
      const header = partial?.header ?? readHeader(this.name, this.memory, this.kinds, at, DATA_OFFSET + cap);
      const targets = partial?.targets ?? this.place(header);
      if (!targets) break;
      const large = header.recordBytes >= LARGE_RECORD_BYTES;
      if (large) {
        // Tell a sender waiting for space that it is coming, and wake it now so it is up when the copy ends.
        Atomics.store(this.control, RECEIVER_BUSY, header.recordBytes);
        wakeIfSleeping(this.control, SPACE_BELL, SENDER_SLEEPING);
      }
      copyTensorsOut(this.memory, at, header, targets, partial?.copied ?? 0, header.recordBytes);
      if (large) Atomics.store(this.control, RECEIVER_BUSY, 0);
      this.advance(header.recordBytes);
      read++;
      const message = messageOf(header, targets);
      for (const s of this.subscribers) s.next(message);
    }
    return read;
  }

  /** Copies out what the sender has written so far of a large record it is still writing. */
  private copyBehindSender(at: number): void {
    const done = this.streamedBytes();
    if (done === 0) return;
    if (!this.partial) {
      const header = readHeader(this.name, this.memory, this.kinds, at, DATA_OFFSET + this.capacity);
      const targets = this.place(header);
      if (!targets) return;
      this.partial = { header, targets, copied: 0 };
    }
    const partial = this.partial;
    if (done <= partial.copied) return;
    copyTensorsOut(this.memory, at, partial.header, partial.targets, partial.copied, done);
    partial.copied = done;
  }

  /** Memory for a record's tensors; undefined (and `placing` set) when the arena must free some first. */
  private place(header: RecordHeader): Tensor[] | undefined {
    if (!this.arena) return this.fresh.place(header);
    const placed = this.placed ?? this.arena.place(header);
    this.placed = undefined;
    if (!placed) this.placing = this.arena.whenPlaced(header, this.stopPlacing.signal);
    return placed;
  }

  /** Delivers the complete record at `at` as views into the ring, held until the consumer releases it. */
  private lease(at: number, leases: LeaseQueue): LeasedMessage {
    const header = readHeader(this.name, this.memory, this.kinds, at, DATA_OFFSET + this.capacity);
    const buffer = this.ring.buffer;
    const views = header.tensors.map((t) => Tensor.over(buffer, at + t.dataOffset, t.shape, t.dtype));
    const release = leases.hold(this.advance(header.recordBytes));
    return { ...messageOf(header, views), release };
  }

  /** Moves the read position past `bytes`; without leases the sender may reuse them at once. */
  private advance(bytes: number): number {
    const tail = advancePosition(this.tail, bytes, this.capacity);
    this.tail = tail;
    if (!this.leases) this.publishTail(tail);
    return tail;
  }

  private publishTail(tail: number): void {
    Atomics.store(this.control, TAIL, tail);
    wakeIfSleeping(this.control, SPACE_BELL, SENDER_SLEEPING);
  }

  private finish(ending: Ending): void {
    if (this.ending) return;
    this.ending = ending;
    this.arena?.release([...(this.partial?.targets ?? []), ...(this.placed ?? [])]);
    this.partial = undefined;
    this.placed = undefined;
    this.stopPlacing.abort();
    this.data.interrupt();
    this.wakeLoop?.();
    const subscribers = [...this.subscribers];
    this.subscribers.clear();
    for (const s of subscribers) {
      if (ending.kind === 'error') s.error(ending.error);
      else s.complete();
    }
  }
}

/**
 * The receiving end of `ring`, for the one thread that receives on it. With `lease: true` messages are
 * views into the ring, each held until released (see `RingReceiverOptions.lease`).
 */
export function ringReceiver(ring: RingDescriptor, options: RingReceiverOptions & { readonly lease: true }): LeasingRingReceiver;
export function ringReceiver(ring: RingDescriptor, options?: RingReceiverOptions): RingChannelReceiver;
export function ringReceiver(ring: RingDescriptor, options: RingReceiverOptions = {}): RingChannelReceiver {
  return new RingReceiver(ring, options);
}
