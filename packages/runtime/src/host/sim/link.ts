import type { ActorId } from '../../actor/ids.ts';
import type { ChannelMessage } from '../../channel/message.ts';
import { ClockEvent, type VirtualClock } from './clock.ts';

/** What a message costs on one directed link. */
export interface LinkProfile {
  /** One-way latency, ms. */
  readonly latencyMs: number;
  /** Bandwidth, GB/s (1e9 bytes per second). */
  readonly gbps: number;
  /** Extra latency drawn uniformly from [0, jitterMs) per message (seeded); order is still kept. Default 0. */
  readonly jitterMs?: number;
  /**
   * Fault injection: the probability that a message is delivered twice (seeded), as a retrying transport
   * might. For testing that receivers tolerate duplicates. Default 0.
   */
  readonly duplicateProbability?: number;
}

/** A 2-core-machine-like default: ≈ 10 µs one way, 10 GB/s. */
export const DEFAULT_LINK: LinkProfile = { latencyMs: 0.01, gbps: 10 };

export function checkLinkProfile(profile: LinkProfile, where: string): LinkProfile {
  const { latencyMs, gbps, jitterMs = 0, duplicateProbability = 0 } = profile ?? ({} as LinkProfile);
  const ok =
    Number.isFinite(latencyMs) &&
    latencyMs >= 0 &&
    Number.isFinite(gbps) &&
    gbps > 0 &&
    Number.isFinite(jitterMs) &&
    jitterMs >= 0 &&
    duplicateProbability >= 0 &&
    duplicateProbability <= 1;
  if (!ok) {
    throw new RangeError(
      `${where}: a link needs latencyMs >= 0, gbps > 0, jitterMs >= 0 and duplicateProbability in [0, 1], got ${JSON.stringify(profile)}`,
    );
  }
  return { latencyMs, gbps, jitterMs, duplicateProbability };
}

/** The receiving end of every link into one actor: whether it takes a message now, and who to flush on resume. */
export interface LinkReceiver {
  /** Whether the receiver takes a message now (else it stays in the ring: landed). */
  ready(): boolean;
  /** `link` holds messages the receiver was not ready for: its resume must flush it. */
  blocked(link: SimLink): void;
  /** The receiver takes `message`, sent by `from`: at its arrival time, or when the receiver is ready again. */
  take(from: ActorId, message: ChannelMessage): void;
}

/**
 * An actor's network port, one way: it moves one message at a time, so every link out of an actor shares its
 * egress port and every link into it its ingress port (a rank sending to 383 peers at once has one NIC's
 * bandwidth, not 383). `freeAt`: when the port has moved everything reserved on it so far.
 */
export class NetworkPort {
  freeAt = 0;
}

interface Waiting {
  readonly bytes: number;
  readonly wireBytes: number;
  readonly message: ChannelMessage;
  readonly admitted: () => void;
  readonly rejected: (error: Error) => void;
}

const ADMITTED = Promise.resolve();

/**
 * One message on its way: the event of its arrival, and then (while the receiver is not ready) its place in
 * the ring. One object per message, not a closure for the arrival and a record for the wait.
 */
class Delivery extends ClockEvent {
  constructor(
    private readonly link: SimLink,
    readonly bytes: number,
    readonly message: ChannelMessage,
  ) {
    super();
  }

  fire(): void {
    this.link.land(this);
  }
}

/**
 * One directed link with the channel's ring in front of it. A message takes bytes / bandwidth on the sender's
 * egress port, then the same on the receiver's ingress port, starting no earlier than one latency after it
 * left (ports are shared by all of an actor's links, reserved in send order); latency overlaps. A message
 * holds ring space from send until the receiver takes it: at its arrival time, or later while the receiver
 * is not `ready` (at its in-flight limit), as a ring receiver stops reading then. A sender whose messages
 * would overflow the ring waits (backpressure, as on the threads host). Per link, delivery order is send order.
 */
export class SimLink<R extends LinkReceiver = LinkReceiver> {
  readonly name: string;
  private lastArrival = 0;
  private inFlightBytes = 0;
  // Made when first needed: a host with hundreds of actors has a link per pair, most of them idle.
  private waiting: Waiting[] | undefined;
  /** Arrived, but the receiver was not ready: still in the ring. */
  private landed: Delivery[] | undefined;
  private failure: Error | undefined;

  constructor(
    readonly from: string,
    readonly to: string,
    private readonly clock: VirtualClock,
    private readonly profile: LinkProfile,
    readonly capacityBytes: number,
    private readonly random: () => number,
    readonly receiver: R,
    private readonly egress: NetworkPort = new NetworkPort(),
    private readonly ingress: NetworkPort = new NetworkPort(),
  ) {
    // Kept (a send names its channel): links are made on first use, so only pairs that talk hold one.
    this.name = `${from}->${to}`;
  }

  /** Whether this link ever delivers a message twice (its profile injects duplicates). */
  get mayDuplicate(): boolean {
    return (this.profile.duplicateProbability ?? 0) > 0;
  }

  /** Whether the next message is also delivered a second time (fault injection, seeded). */
  duplicates(): boolean {
    const p = this.profile.duplicateProbability ?? 0;
    return p > 0 && this.random() < p;
  }

  /** When everything sent so far has arrived. */
  get drainedAt(): number {
    return Math.max(this.lastArrival, this.clock.time);
  }

  /** The receiver may be ready again: hands it what landed while it was not, in order. */
  flush(): void {
    const landed = this.landed;
    if (!landed) return;
    let freed = false;
    while (landed.length > 0 && this.receiver.ready()) {
      const next = landed.shift() as Delivery;
      this.inFlightBytes -= next.bytes;
      freed = true;
      this.receiver.take(this.from, next.message);
    }
    if (landed.length > 0) this.receiver.blocked(this);
    if (freed) this.admitWaiting();
  }

  /**
   * Resolves when the message is admitted to the ring; the receiver takes it at its arrival time (or once
   * ready). It holds `bytes` of ring space and takes `wireBytes` (default `bytes`) of wire time. A message
   * admitted at once gets a shared resolved promise: nothing is made for it.
   */
  send(bytes: number, message: ChannelMessage, wireBytes = bytes): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.waiting?.length && this.inFlightBytes + bytes <= this.capacityBytes) {
      this.transmit(bytes, wireBytes, message);
      return ADMITTED;
    }
    const waiting = (this.waiting ??= []);
    return new Promise<void>((admitted, rejected) => waiting.push({ bytes, wireBytes, message, admitted, rejected }));
  }

  /** The receiver is gone (or the host stops): senders waiting for ring space, and later ones, get `error`. */
  fail(error: Error): void {
    this.failure ??= error;
    for (const w of this.waiting?.splice(0) ?? []) w.rejected(error);
  }

  private transmit(bytes: number, wireBytes: number, message: ChannelMessage): void {
    const wireMs = wireBytes / (this.profile.gbps * 1e6);
    const { latencyMs } = this.profile;
    const start = Math.max(this.clock.time, this.egress.freeAt);
    this.egress.freeAt = start + wireMs;
    this.ingress.freeAt = Math.max(start + latencyMs, this.ingress.freeAt) + wireMs;
    const jitter = this.profile.jitterMs ? this.random() * this.profile.jitterMs : 0;
    const arrival = Math.max(this.lastArrival, this.ingress.freeAt + jitter);
    this.lastArrival = arrival;
    this.inFlightBytes += bytes;
    this.clock.post(arrival, new Delivery(this, bytes, message));
  }

  /**
   * A message arrives (its Delivery fires): the receiver takes it now if nothing landed before it waits and
   * it is ready, else it waits in the ring.
   */
  land(delivery: Delivery): void {
    if (this.landed?.length || !this.receiver.ready()) {
      // Only links into a receiver that was once not ready hold a queue: most of a large host's links never do.
      (this.landed ??= []).push(delivery);
      this.flush();
      return;
    }
    this.inFlightBytes -= delivery.bytes;
    this.receiver.take(this.from, delivery.message);
    this.admitWaiting();
  }

  private admitWaiting(): void {
    const waiting = this.waiting;
    if (!waiting) return;
    while (waiting.length > 0 && this.inFlightBytes + waiting[0].bytes <= this.capacityBytes) {
      const next = waiting.shift() as Waiting;
      this.transmit(next.bytes, next.wireBytes, next.message);
      next.admitted();
    }
  }
}
