import type { Observable, SchedulerLike } from 'rxjs';
import type { ChannelMessage } from '../channel/message.ts';
import type { Arena } from '../tensor/arena.ts';
import type { ActorId } from './ids.ts';

export type HostKind = 'threads' | 'sim';

/** A message as an actor (or the driver) receives it: who sent it, and what. */
export interface Envelope {
  readonly from: ActorId;
  readonly message: ChannelMessage;
}

/** One unit of device work, described for the sim host's cost function (the threads host only counts it). */
export interface DeviceOp {
  /** What runs, e.g. 'matmul' or 'expert-ffn'. */
  readonly name: string;
  /** Floating-point operations, for a roofline cost model. */
  readonly flops?: number;
  /** Bytes read and written, for a roofline cost model. */
  readonly bytes?: number;
  /**
   * Of `flops`, those of attention over the held context (scores and weighted values): kernels run them at
   * a rate of their own, unlike the projections' matmuls, so a chunk after a long cache costs what it does.
   */
  readonly contextFlops?: number;
}

/**
 * Where an actor charges its compute. It runs one op at a time. Under threads `compute` runs at once and the
 * op takes as long as it takes; under sim `compute` also runs at once (so numerics are identical) but the
 * result arrives when the op ends in virtual time, after the ops queued before it.
 */
export interface Device {
  run<T>(op: DeviceOp, compute: () => T): Promise<T>;
  /**
   * Resolves when every op submitted so far has ended (at once if none is pending): work that batches what
   * has arrived can wait for the device before taking its batch, so the batch holds everything that
   * arrived meanwhile. Under threads ops end as they are submitted.
   */
  idle(): Promise<void>;
  /** Ops run so far. */
  readonly ops: number;
  /** Time the device was busy, ms (wall clock under threads, virtual under sim). */
  readonly busyMs: number;
}

export interface Timer {
  cancel(): void;
}

/**
 * Everything an actor may touch. The same actor source runs under both hosts because it reaches time,
 * timers, peers and compute only through here.
 */
export interface ActorContext {
  readonly id: ActorId;
  readonly host: HostKind;
  /** Every other actor on the host, in spawn order (the driver is not listed). */
  readonly peers: readonly ActorId[];
  /** Where this actor may send: its declared destinations (peers and possibly the driver). */
  readonly destinations: readonly ActorId[];
  /** Pass this to every time-based RxJS operator: under sim it is the virtual clock. */
  readonly scheduler: SchedulerLike;
  readonly device: Device;
  /** The actor's activation memory: a fixed budget (ActorSpec.arenaBytes); asking beyond it is an error. */
  readonly arena: Arena;
  /** Every message, from any peer or the driver, in arrival order. Subscribe during setup (it is hot). */
  readonly inbox$: Observable<Envelope>;
  /** Messages from one sender, in send order; errors with ActorCrashedError if that sender crashes. Hot. */
  inboxFrom(sender: ActorId): Observable<ChannelMessage>;
  /**
   * `inboxFrom(sender)` without its messages: never emits; errors as that stream would if the sender crashes,
   * completes when this actor stops. For watching a peer whose messages `onMessage` reads: its messages then
   * cost no trip through a stream.
   */
  endOf(sender: ActorId): Observable<never>;
  /**
   * Resolves once the message is on its way (its tensors are copied: the caller may reuse them); waits while
   * the channel is full. Rejects with ActorStoppedError if the receiver has stopped.
   */
  send(to: ActorId, message: ChannelMessage): Promise<void>;
  /** ms since the host started: wall clock under threads, virtual under sim. */
  now(): number;
  /** Uniform in [0, 1), from a PRNG seeded by the host seed and this actor's id (never Math.random). */
  random(): number;
  setTimer(delayMs: number, callback: () => void | Promise<void>): Timer;
  /** Resolves after `delayMs` of host time. */
  after(delayMs: number): Promise<void>;
  /** Records an event (time, actor, event, detail) in the host's event log. `detail` must be JSON-serialisable. */
  log(event: string, detail?: unknown): void;
}
