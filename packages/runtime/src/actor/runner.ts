import { type Observable, type SchedulerLike, type Subscription, throwError } from 'rxjs';
import type { ChannelMessage } from '../channel/message.ts';
import type { ActorContext, Device, Envelope, HostKind, Timer } from './context.ts';
import type { ActorBehaviour, ActorDefinition } from './definition.ts';
import { ActorStoppedError } from '../errors.ts';
import { type ActorId, DRIVER } from './ids.ts';
import { SeededRandom } from '../random/seeded-random.ts';
import { Arena } from '../tensor/arena.ts';
import { HotStream } from './hot-stream.ts';
import { ActorIdSet, ActorIndex } from './id-set.ts';

/** What a host gives one actor: its clock, scheduler, device and data plane. */
export interface ActorPort {
  readonly host: HostKind;
  readonly scheduler: SchedulerLike;
  readonly device: Device;
  now(): number;
  /** Puts the message on the data plane; the runner has checked the destination already. */
  send(to: ActorId, message: ChannelMessage): Promise<void>;
  log(event: string, detail: unknown): void;
  /** The actor failed (a handler, timer or stream threw). Called at most once. */
  crash(error: unknown): void;
  /** The actor takes messages again (`runner.ready` holds after being false): deliver what waits for it. */
  resume(): void;
}

/** Where an actor sits: its id, who else is on the host, where it may send, and the host's seed. */
export interface ActorPlacement {
  readonly id: ActorId;
  readonly peers: readonly ActorId[];
  readonly destinations: readonly ActorId[];
  readonly seed: number;
  /** Budget of the actor's arena, bytes. */
  readonly arenaBytes: number;
  /** Most onMessage promises pending at once; past it, messages wait (in the ring: the sender waits). */
  readonly maxInFlight: number;
}

/** Figures every actor has, plus what its behaviour's `stats()` returns (`custom`). */
export interface ActorStats<Custom = unknown> {
  readonly id: ActorId;
  readonly messagesIn: number;
  readonly messagesOut: number;
  /** Tensor payload bytes received (headers not counted). */
  readonly bytesIn: number;
  /** Tensor payload bytes sent (headers not counted). */
  readonly bytesOut: number;
  readonly deviceOps: number;
  readonly deviceBusyMs: number;
  /** Arena bytes in use now, and the most ever in use. */
  readonly arenaUsedBytes: number;
  readonly arenaPeakBytes: number;
  readonly custom: Custom | undefined;
}

type RunnerState = 'setting-up' | 'running' | 'failed' | 'stopped';

/**
 * A sender as one runner knows it: its inbox stream, once the actor reads one. A host may keep it (per link)
 * and deliver through it, so that a message costs no lookup among the runner's senders.
 */
export class Sender {
  stream: HotStream<ChannelMessage> | undefined;
  /** What `endOf` gives: the sender's end, without its messages. */
  end: HotStream<never> | undefined;

  constructor(readonly id: ActorId) {}
}

/** The runner whose context first saw a rejection reason pass (see `ActorRunner.traced`). */
const reasonOrigins = new WeakMap<object, ActorRunner>();
/**
 * The runner whose context made a promise: a property of the promise rather than a WeakMap entry, which
 * would cost every send and device op a weak-table insert (and the collector an ephemeron).
 */
const ORIGIN = Symbol('asap.actorOrigin');
type TracedPromise<T> = Promise<T> & { [ORIGIN]?: ActorRunner };

/**
 * Which actor an unhandled rejection belongs to, from the rejected promise or its reason: set for promises a
 * context method returned (send, device.run) and for the reasons they rejected with, so a chain built on
 * them (`ctx.send(...).then(...)`) is traced too. Undefined for rejections that never passed through a context.
 */
export function rejectionOrigin(promise: Promise<unknown>, reason: unknown): ActorRunner | undefined {
  return (promise as TracedPromise<unknown>)[ORIGIN] ?? (typeof reason === 'object' && reason !== null ? reasonOrigins.get(reason) : undefined);
}

export function payloadBytes(message: ChannelMessage): number {
  const tensors = message.tensors;
  if (!tensors) return 0;
  let n = 0;
  for (let i = 0; i < tensors.length; i++) n += tensors[i].byteLength;
  return n;
}

// An actor's context and device are class instances with their getters on the prototype: getters in an
// object literal are made per object, which gives every actor's context its own hidden class, and code that
// hundreds of actors share (their onMessage) would then reach their contexts through megamorphic lookups.

class ContextDevice implements Device {
  constructor(
    private readonly device: Device,
    readonly run: Device['run'],
  ) {}

  idle(): Promise<void> {
    return this.device.idle();
  }

  get ops(): number {
    return this.device.ops;
  }

  get busyMs(): number {
    return this.device.busyMs;
  }
}

class RunnerContext implements ActorContext {
  declare readonly id: ActorId;
  declare readonly host: HostKind;
  declare readonly peers: readonly ActorId[];
  declare readonly destinations: readonly ActorId[];
  declare readonly scheduler: SchedulerLike;
  declare readonly device: Device;
  declare readonly inbox$: Observable<Envelope>;
  declare readonly inboxFrom: ActorContext['inboxFrom'];
  declare readonly endOf: ActorContext['endOf'];
  declare readonly send: ActorContext['send'];
  declare readonly now: ActorContext['now'];
  declare readonly random: ActorContext['random'];
  declare readonly setTimer: ActorContext['setTimer'];
  declare readonly after: ActorContext['after'];
  declare readonly log: ActorContext['log'];

  constructor(
    private readonly arenaOf: () => Arena,
    parts: Omit<ActorContext, 'arena'>,
  ) {
    Object.assign(this, parts);
  }

  get arena(): Arena {
    return this.arenaOf();
  }
}

/**
 * Runs one actor instance under any host: builds its context, calls its setup, delivers messages to its
 * handler and inbox streams, and turns every throw in its code into one crash report to the host.
 */
export class ActorRunner {
  readonly ctx: ActorContext;
  private state: RunnerState = 'setting-up';
  private behaviour: ActorBehaviour | undefined;
  private inFlight = 0;
  private readonly all = new HotStream<Envelope>();
  private readonly senders = new Map<ActorId, Sender>();
  /** Each sender's streams (inboxFrom's and endOf's), in the order they were made (stop completes them in that order). */
  private readonly streams: HotStream<unknown>[] = [];
  private readonly downPeers = new Map<ActorId, Error>();
  /** Sets, not the placement's arrays: a send's check must not grow with the number of actors. */
  private readonly destinationSet: ActorIdSet;
  private readonly peerSet: ActorIdSet;
  private readonly timers = new Set<Subscription>();
  private runSubscription: Subscription | undefined;
  private messagesIn = 0;
  private messagesOut = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private arenaIfMade: Arena | undefined;

  /** `ids`: shared by the runners a host makes in one thread (see ActorIndex); by default the runner's own. */
  constructor(
    readonly placement: ActorPlacement,
    private readonly port: ActorPort,
    ids: ActorIndex = new ActorIndex(),
  ) {
    this.destinationSet = new ActorIdSet(ids, placement.destinations);
    this.peerSet = new ActorIdSet(ids, placement.peers);
    const stream = SeededRandom.forName(placement.seed, placement.id);
    const random = (): number => stream.next();
    const device = port.device;
    // Only the sim host needs to know whose a stray rejection is: under threads it crashes its own worker.
    const traced = port.host === 'sim' ? <T>(work: Promise<T>): Promise<T> => this.traced(work) : <T>(work: Promise<T>): Promise<T> => work;
    this.ctx = new RunnerContext(
      // Made on first use: a sim host with hundreds of actors should not reserve memory for idle ones.
      () => (this.arenaIfMade ??= new Arena({ name: placement.id, bytes: placement.arenaBytes })),
      {
        id: placement.id,
        host: port.host,
        peers: placement.peers,
        destinations: placement.destinations,
        scheduler: port.scheduler,
        device: new ContextDevice(device, (op, compute) => traced(device.run(op, compute))),
        inbox$: this.all.observable,
        inboxFrom: (sender) => this.inboxFrom(sender),
        endOf: (sender) => this.endOf(sender),
        send: (to, message) => traced(this.send(to, message)),
        now: () => port.now(),
        random,
        setTimer: (delayMs, callback) => this.setTimer(delayMs, callback),
        after: (delayMs) => new Promise<void>((resolve) => this.setTimer(delayMs, resolve)),
        log: (event, detail) => port.log(event, detail),
      },
    );
  }

  get id(): ActorId {
    return this.placement.id;
  }

  get running(): boolean {
    return this.state === 'running' || this.state === 'setting-up';
  }

  /** Calls the actor's setup; a throw in it rejects (the host reports it as a failed spawn). */
  async start(definition: ActorDefinition, config: unknown): Promise<void> {
    const behaviour = await definition.setup(this.ctx, config);
    if (typeof behaviour !== 'object' || behaviour === null) {
      throw new TypeError(`actor "${this.id}": setup must return a behaviour object (it may be empty: {})`);
    }
    if (this.state !== 'setting-up') return;
    this.behaviour = behaviour;
    this.state = 'running';
    if (behaviour.run$) {
      this.runSubscription = behaviour.run$.subscribe({ error: (error: unknown) => this.fail(error) });
    }
  }

  /**
   * Whether the actor takes another message now; when this turns true again the runner calls `port.resume`.
   * Hosts deliver only while it holds (the rest wait in the ring or link, so the sender waits): the runner
   * buffers nothing, and its memory does not grow with what peers send.
   */
  get ready(): boolean {
    return this.state === 'running' && this.inFlight < this.placement.maxInFlight;
  }

  /** `from` as this runner knows it (made on first use), for `deliverFrom`. */
  sender(from: ActorId): Sender {
    let sender = this.senders.get(from);
    if (!sender) {
      sender = new Sender(from);
      this.senders.set(from, sender);
    }
    return sender;
  }

  /** A message arrived from `from` (a peer or the driver); the host has checked `ready`. */
  deliver(from: ActorId, message: ChannelMessage): void {
    this.deliverFrom(this.sender(from), message);
  }

  /** `deliver`, from a sender the host kept (see `sender`). */
  deliverFrom(from: Sender, message: ChannelMessage): void {
    if (this.state === 'failed' || this.state === 'stopped') return;
    if (!this.ready) {
      const why = this.state === 'setting-up' ? 'it is setting up' : `${this.inFlight} handlers are in flight (maxInFlight ${this.placement.maxInFlight})`;
      throw new Error(`actor "${this.id}": message "${message.kind}" from "${from.id}" delivered while ${why}: a host delivers only while \`ready\` holds`);
    }
    this.process(from.id, from.stream, message);
  }

  /** Starts a message: its handler (counted while its promise is pending) and the inbox streams. */
  private process(from: ActorId, sender: HotStream<ChannelMessage> | undefined, message: ChannelMessage): void {
    this.messagesIn++;
    this.bytesIn += payloadBytes(message);
    const onMessage = this.behaviour?.onMessage;
    if (!onMessage && !this.all.observed && !sender?.observed) {
      this.fail(
        new Error(`message "${message.kind}" from "${from}" arrived, but the actor has no onMessage and nothing subscribed to its inbox`),
      );
      return;
    }
    if (onMessage) {
      const pending = this.handle(onMessage, from, message);
      if (this.state !== 'running') return;
      if (pending) {
        this.inFlight++;
        void pending.then(this.handlerDone);
      }
    }
    sender?.next(message);
    // No envelope for an inbox nobody reads: the common case for actors that only use onMessage.
    if (this.all.observed) this.all.next({ from, message });
  }

  /** A peer crashed or stopped: whoever waits on its messages gets `error`, and sends to it fail. */
  peerDown(peer: ActorId, error: Error): void {
    if (this.downPeers.has(peer)) return;
    this.downPeers.set(peer, error);
    const sender = this.senders.get(peer);
    sender?.stream?.error(error);
    sender?.end?.error(error);
  }

  /** Cancels timers and streams, then runs the behaviour's `stop`. */
  async stop(): Promise<void> {
    const wasRunning = this.state === 'running';
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.cancelWork();
    if (wasRunning) await this.behaviour?.stop?.();
    this.all.complete();
    for (const stream of this.streams) stream.complete();
  }

  stats(): ActorStats {
    return {
      id: this.id,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      deviceOps: this.port.device.ops,
      deviceBusyMs: this.port.device.busyMs,
      arenaUsedBytes: this.arenaIfMade?.used ?? 0,
      arenaPeakBytes: this.arenaIfMade?.peakUsed ?? 0,
      custom: this.behaviour?.stats?.(),
    };
  }

  private readonly handlerDone = (): void => {
    this.inFlight--;
    if (this.ready) this.port.resume();
  };

  /** Turns a throw or a rejection from actor code into a crash; returns a promise that settles with async work. */
  private guard(work: () => void | Promise<void>): Promise<void> | undefined {
    try {
      return this.watch(work());
    } catch (error) {
      this.fail(error);
      return undefined;
    }
  }

  /** `guard` for a message handler, without a closure per message. */
  private handle(onMessage: NonNullable<ActorBehaviour['onMessage']>, from: ActorId, message: ChannelMessage): Promise<void> | undefined {
    try {
      return this.watch(onMessage.call(this.behaviour, from, message));
    } catch (error) {
      this.fail(error);
      return undefined;
    }
  }

  private watch(result: void | Promise<void>): Promise<void> | undefined {
    return result && typeof result.then === 'function' ? result.then(undefined, this.failed) : undefined;
  }

  private readonly failed = (error: unknown): void => this.fail(error);

  /** Actor code failed where the runner could not see it (e.g. an unhandled rejection the host traced to it). */
  crash(error: unknown): void {
    this.fail(error);
  }

  /** `work`, marked as this actor's: if nobody handles its rejection, the host can tell whose it was. */
  private traced<T>(work: Promise<T>): Promise<T> {
    const marked: TracedPromise<T> = work.catch(this.markReason);
    marked[ORIGIN] = this;
    return marked;
  }

  private readonly markReason = (error: unknown): never => {
    if (typeof error === 'object' && error !== null && !reasonOrigins.has(error)) reasonOrigins.set(error, this);
    throw error;
  };

  private fail(error: unknown): void {
    if (this.state === 'failed' || this.state === 'stopped') return;
    this.state = 'failed';
    this.cancelWork();
    this.port.crash(error);
  }

  private cancelWork(): void {
    for (const timer of this.timers) timer.unsubscribe();
    this.timers.clear();
    this.runSubscription?.unsubscribe();
  }

  private inboxFrom(sender: ActorId): Observable<ChannelMessage> {
    const down = this.checkSender('inboxFrom', sender);
    if (down) return throwError(() => down);
    const known = this.sender(sender);
    if (!known.stream) {
      known.stream = new HotStream<ChannelMessage>();
      this.streams.push(known.stream);
    }
    return known.stream.observable;
  }

  private endOf(sender: ActorId): Observable<never> {
    const down = this.checkSender('endOf', sender);
    if (down) return throwError(() => down);
    const known = this.sender(sender);
    if (!known.end) {
      known.end = new HotStream<never>();
      this.streams.push(known.end);
    }
    return known.end.observable;
  }

  /** Throws for a sender that is no actor here; returns the error a sender that is down ended with. */
  private checkSender(where: string, sender: ActorId): Error | undefined {
    if (sender !== DRIVER && !this.peerSet.has(sender)) {
      throw new TypeError(`actor "${this.id}": ${where}("${sender}"): no such actor (peers: ${this.placement.peers.join(', ')})`);
    }
    return this.downPeers.get(sender);
  }

  /**
   * Rejects (never throws) what may not be sent; counts a message once the host took it. A `then`, not an
   * async function: the same promise steps (so actors interleave as before) without a suspended frame per send.
   */
  private send(to: ActorId, message: ChannelMessage): Promise<void> {
    try {
      if (!this.running) throw new ActorStoppedError(this.id, `it cannot send "${message?.kind}" to "${to}" any more`);
      if (!this.destinationSet.has(to)) {
        throw new TypeError(
          `actor "${this.id}" cannot send to "${to}": not one of its destinations (${this.placement.destinations.join(', ')})`,
        );
      }
      const down = this.downPeers.get(to);
      if (down) throw new ActorStoppedError(to, down.message);
      return this.port.send(to, message).then(() => {
        this.messagesOut++;
        this.bytesOut += payloadBytes(message);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private setTimer(delayMs: number, callback: () => void | Promise<void>): Timer {
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      throw new RangeError(`actor "${this.id}": timer delay must be a finite number of ms >= 0, got ${delayMs}`);
    }
    const subscription = this.port.scheduler.schedule(() => {
      this.timers.delete(subscription);
      if (this.running) this.guard(callback);
    }, delayMs);
    if (!subscription.closed) this.timers.add(subscription);
    return {
      cancel: () => {
        subscription.unsubscribe();
        this.timers.delete(subscription);
      },
    };
  }
}
