/// <reference path="./comlink-node-adapter.d.ts" />
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { type Observable, Subject, asyncScheduler } from 'rxjs';
import type { Envelope } from '../../actor/context.ts';
import { ActorCrashedError, ActorSpawnError, ActorStoppedError } from '../../errors.ts';
import { type ActorId, DRIVER } from '../../actor/ids.ts';
import type { ActorStats } from '../../actor/runner.ts';
import { ChannelClosedError } from '../../errors.ts';
import type { ChannelMessage, ChannelReceiver, ChannelSender } from '../../channel/message.ts';
import { ringReceiver } from '../../channel/receiver.ts';
import { type RingDescriptor, abortRing, createRing } from '../../channel/ring.ts';
import { ringSender } from '../../channel/sender.ts';
import { DriverInbox } from '../driver.ts';
import { type ActorEvent, type Host, type HostOptions, type PlannedActor, checkRingBytes, planActors } from '../host.ts';
import { describeError, raceDeath, startTimeoutMessage, withTimeout } from '../supervision.ts';
import type { ActorControl, ActorWorkerData, WorkerEvent, WorkerInit } from './control.ts';
import { workerEntry, workerExecArgv } from './worker-entry.ts';


export interface ThreadsHostOptions extends HostOptions {
  /** How long loading modules and running every setup may take before start fails (default 60 s). */
  readonly startTimeoutMs?: number;
  /** How long an actor's graceful stop may take at shutdown before its worker is terminated (default 2 s). */
  readonly shutdownTimeoutMs?: number;
  /**
   * A running actor whose thread shows no sign of life (its event loop does not turn: a loop that never yields,
   * a blocking call) for this long is reported crashed, naming it, and its worker is terminated (default 30 s;
   * 0 turns the check off). Set it above the longest synchronous kernel call an actor makes.
   */
  readonly stallTimeoutMs?: number;
}

export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

/** How often a worker beats (and the host looks), for a stall timeout: a few beats per timeout, at most 1 s apart. */
export function heartbeatPeriodMs(stallTimeoutMs: number): number {
  return Math.min(1000, Math.max(1, Math.floor(stallTimeoutMs / 5)));
}

type ThreadState = 'starting' | 'running' | 'crashed' | 'stopping' | 'stopped';

/** Why an actor in this state takes no message: what a rejected send or stats call says. */
const STOP_REASONS: Readonly<Record<Exclude<ThreadState, 'crashed'>, string>> = {
  starting: 'it has not started yet',
  running: 'it is running',
  stopping: 'it is being shut down',
  stopped: 'it was shut down',
};

interface Channel {
  readonly from: ActorId;
  readonly to: ActorId;
  readonly ring: RingDescriptor;
}

/**
 * One actor's worker, its control plane, and the promise that rejects when it dies or is stopped. The worker
 * does not keep the process alive by itself: only a control call in flight does (see `call`).
 */
class ActorThread {
  state: ThreadState = 'starting';
  private crashReason = '';
  readonly worker: Worker;
  /** Counts the worker's event-loop turns (the worker adds to it on a timer): a count that stops moving is a stall. */
  readonly heartbeat = new Int32Array(new SharedArrayBuffer(4));
  lastBeat = 0;
  lastBeatAt = 0;
  /** Reasons to keep the process alive for this worker (control calls in flight, a shutdown waiting for it). */
  private holds = 0;
  readonly control: Comlink.Remote<ActorControl>;
  readonly events: MessagePort;
  readonly died: Promise<never>;
  readonly exited: Promise<void>;
  /** The worker closed its end of the event port: every event it logged has arrived. */
  readonly eventsClosed: Promise<void>;
  private rejectDied: (error: Error) => void = () => {};

  constructor(
    readonly plan: PlannedActor,
    heartbeatMs: number,
  ) {
    const channel = new MessageChannel();
    const workerData: ActorWorkerData = { events: channel.port2, heartbeat: this.heartbeat, heartbeatMs };
    this.worker = new Worker(workerEntry(), {
      workerData,
      transferList: [channel.port2],
      name: plan.placement.id,
      execArgv: workerExecArgv(process.execArgv),
    });
    this.worker.unref();
    this.events = channel.port1;
    this.control = Comlink.wrap<ActorControl>(nodeEndpoint(this.worker));
    this.died = new Promise<never>((_, reject) => (this.rejectDied = reject));
    this.died.catch(() => {});
    this.exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.eventsClosed = new Promise<void>((resolve) => this.events.once('close', () => resolve()));
  }

  get id(): ActorId {
    return this.plan.placement.id;
  }

  get alive(): boolean {
    return this.state === 'starting' || this.state === 'running';
  }

  get stopReason(): string {
    return this.state === 'crashed' ? this.crashReason : STOP_REASONS[this.state];
  }

  die(error: ActorCrashedError): void {
    this.state = 'crashed';
    this.crashReason = `crashed: ${describeError(error.cause)}`;
    this.rejectDied(error);
  }

  /** Stopped for good: whatever still waits on its control plane fails now. */
  stopped(): void {
    if (this.state !== 'crashed') this.state = 'stopped';
    this.rejectDied(new ActorStoppedError(this.id, this.stopReason));
  }

  /** A control call, raced against the actor's end; the process stays alive while it is in flight. */
  async call<T>(work: () => Promise<T>): Promise<T> {
    this.hold();
    try {
      return await raceDeath(work(), this.died);
    } finally {
      this.release();
    }
  }

  hold(): void {
    if (this.holds++ === 0) this.worker.ref();
  }

  release(): void {
    if (--this.holds === 0) this.worker.unref();
  }
}

class ThreadsHost implements Host {
  readonly kind = 'threads';
  readonly scheduler = asyncScheduler;
  readonly actors: readonly ActorId[];
  failure: ActorCrashedError | undefined;
  private readonly threads = new Map<ActorId, ActorThread>();
  private readonly channels: Channel[] = [];
  private readonly driver: DriverInbox;
  private readonly driverSenders = new Map<ActorId, ChannelSender>();
  private readonly driverReceivers: ChannelReceiver[] = [];
  private readonly eventLog = new Subject<ActorEvent>();
  private readonly epochMs = performance.timeOrigin + performance.now();
  private closing: Promise<void> | undefined;
  private stallCheck: NodeJS.Timeout | undefined;
  readonly events$: Observable<ActorEvent> = this.eventLog.asObservable();

  constructor(
    private readonly plan: readonly PlannedActor[],
    ringBytes: number,
    private readonly shutdownTimeoutMs: number,
    private readonly stallTimeoutMs: number,
  ) {
    this.actors = plan.map((p) => p.placement.id);
    this.driver = new DriverInbox(this.actors, true);
    for (const { placement } of plan) {
      for (const to of placement.destinations) this.channels.push(this.channel(placement.id, to, ringBytes));
      this.channels.push(this.channel(DRIVER, placement.id, ringBytes));
    }
    for (const { from, to, ring } of this.channels) {
      // The driver's channels never keep the process alive themselves: a pending send or a subscribed
      // driver does (see DriverInbox), so a program that is done with the host exits.
      if (from === DRIVER) this.driverSenders.set(to, ringSender(ring));
      if (to !== DRIVER) continue;
      const receiver = ringReceiver(ring, { keepAlive: false });
      this.driverReceivers.push(receiver);
      // A dead actor's channel is aborted (ChannelClosedError), but its crash has already failed the driver's
      // inbox; any other error is this receiver failing to read, which the driver must hear about.
      receiver.inbox$.subscribe({
        next: (message) => this.driver.deliver(from, message),
        error: (error: Error) => {
          if (!(error instanceof ChannelClosedError)) this.driver.fail(error);
        },
      });
    }
  }

  get inbox$(): Observable<Envelope> {
    return this.driver.inbox$;
  }

  get crashes$(): Observable<ActorCrashedError> {
    return this.driver.crashes$;
  }

  inboxFrom(actor: ActorId): Observable<ChannelMessage> {
    return this.driver.inboxFrom(actor);
  }

  now(): number {
    return performance.timeOrigin + performance.now() - this.epochMs;
  }

  async start(timeoutMs: number): Promise<void> {
    for (const plan of this.plan) this.threads.set(plan.placement.id, this.spawn(plan));
    const pending = new Set(this.actors);
    const started = [...this.threads.values()].map(async (thread) => {
      try {
        await thread.call(() => thread.control.init(this.initFor(thread.plan)));
        pending.delete(thread.id);
        if (thread.state === 'starting') {
          thread.state = 'running';
          thread.lastBeatAt = performance.now();
        }
        this.record(thread.id, 'start');
      } catch (error) {
        throw new ActorSpawnError(thread.id, thread.plan.moduleUrl, error instanceof ActorCrashedError ? error.cause : error);
      }
    });
    try {
      await withTimeout(Promise.all(started), timeoutMs, () => `threads host: ${startTimeoutMessage(pending, this.actors.length, timeoutMs)}`);
    } catch (error) {
      await this.shutdown();
      throw error;
    }
    if (this.stallTimeoutMs > 0) {
      this.stallCheck = setInterval(() => this.checkHeartbeats(), heartbeatPeriodMs(this.stallTimeoutMs));
      this.stallCheck.unref();
    }
  }

  /** A running actor whose heartbeat has not moved for stallTimeoutMs is stuck: report it as crashed. */
  private checkHeartbeats(): void {
    const now = performance.now();
    for (const thread of this.threads.values()) {
      if (thread.state !== 'running') continue;
      const beat = Atomics.load(thread.heartbeat, 0);
      if (beat !== thread.lastBeat) {
        thread.lastBeat = beat;
        thread.lastBeatAt = now;
      } else if (now - thread.lastBeatAt > this.stallTimeoutMs) {
        this.crash(thread, new Error(`stalled: no heartbeat for ${Math.round(now - thread.lastBeatAt)} ms (a loop that never yields, or a blocking call)`));
      }
    }
  }

  async send(to: ActorId, message: ChannelMessage): Promise<void> {
    const thread = this.thread(to, 'send');
    if (!thread.alive) throw new ActorStoppedError(to, thread.stopReason);
    const sender = this.driverSenders.get(to);
    if (!sender) throw new Error(`threads host: no channel from the driver to "${to}"`);
    try {
      await sender.send(message);
    } catch (error) {
      if (error instanceof ChannelClosedError) throw new ActorStoppedError(to, thread.stopReason);
      throw error;
    }
  }

  async stats(actor: ActorId): Promise<ActorStats> {
    const thread = this.thread(actor, 'stats');
    if (!thread.alive) throw new ActorStoppedError(actor, thread.stopReason);
    return thread.call(() => thread.control.stats());
  }

  shutdown(): Promise<void> {
    this.closing ??= this.close();
    return this.closing;
  }

  private async close(): Promise<void> {
    clearInterval(this.stallCheck);
    await Promise.all([...this.threads.values()].map((thread) => this.stopThread(thread)));
    for (const sender of this.driverSenders.values()) sender.close();
    for (const receiver of this.driverReceivers) receiver.close();
    this.driver.shutDown();
    this.eventLog.complete();
  }

  private async stopThread(thread: ActorThread): Promise<void> {
    // Shutdown waits on this worker (its stop, its event port, its exit): those waits keep the process alive.
    thread.hold();
    if (thread.state === 'running') {
      thread.state = 'stopping';
      try {
        await withTimeout(thread.call(() => thread.control.shutdown()), this.shutdownTimeoutMs, 'graceful stop timed out');
        await withTimeout(thread.eventsClosed, this.shutdownTimeoutMs, 'its event port did not close');
      } catch (error) {
        this.record(thread.id, 'stop-error', { message: describeError(error) });
      }
    }
    thread.stopped();
    thread.events.close();
    await thread.worker.terminate();
    await thread.exited;
    thread.release();
    this.record(thread.id, 'stop');
  }

  private spawn(plan: PlannedActor): ActorThread {
    const thread = new ActorThread(plan, heartbeatPeriodMs(this.stallTimeoutMs || DEFAULT_STALL_TIMEOUT_MS));
    thread.worker.on('error', (error) => this.crash(thread, error));
    thread.worker.on('exit', (code) => this.crash(thread, new Error(`its worker exited with code ${code}`)));
    thread.events.on('message', (event: WorkerEvent) => this.eventLog.next(event));
    // After the listener: adding a 'message' listener refs a port.
    thread.events.unref();
    return thread;
  }

  /** A worker threw or exited: fail everything that waits on it, within one event-loop turn. */
  private crash(thread: ActorThread, cause: unknown): void {
    if (!thread.alive) return;
    const error = new ActorCrashedError(thread.id, cause);
    thread.die(error);
    this.failure ??= error;
    for (const { from, to, ring } of this.channels) {
      if (from === thread.id || to === thread.id) abortRing(ring, describeError(cause));
    }
    this.driver.actorCrashed(error);
    this.record(thread.id, 'crash', { message: error.message });
    void thread.worker.terminate();
  }

  private record(actor: ActorId, event: string, detail?: unknown): void {
    this.eventLog.next(detail === undefined ? { time: this.now(), actor, event } : { time: this.now(), actor, event, detail });
  }

  private thread(actor: ActorId, where: string): ActorThread {
    const thread = this.threads.get(actor);
    if (!thread) throw new TypeError(`threads host: ${where}: no actor "${actor}" (actors: ${this.actors.join(', ')})`);
    return thread;
  }

  private channel(from: ActorId, to: ActorId, ringBytes: number): Channel {
    return { from, to, ring: createRing(`${from}->${to}`, ringBytes) };
  }

  private initFor(plan: PlannedActor): WorkerInit {
    const id = plan.placement.id;
    return {
      placement: plan.placement,
      moduleUrl: plan.moduleUrl,
      config: plan.config,
      epochMs: this.epochMs,
      outgoing: this.channels.filter((c) => c.from === id).map((c) => [c.to, c.ring] as const),
      incoming: this.channels.filter((c) => c.to === id).map((c) => [c.from, c.ring] as const),
    };
  }
}

/**
 * Starts one worker thread per actor, wires a ring per directed pair (plus the driver's), runs every setup,
 * and resolves once all actors run. A missing module or a failing setup rejects with ActorSpawnError.
 *
 * The host keeps the process alive only while the driver waits on it: a subscription to one of its streams
 * (inbox$, inboxFrom, crashes$), a send waiting for ring space, or a call in flight (start, stats, shutdown).
 * Workers, the driver's channels and the stall check do not, so a program that is done with the host (has
 * unsubscribed and awaits nothing of it) exits even without `shutdown()`, its workers ending with it.
 */
export async function startThreadsHost(options: ThreadsHostOptions): Promise<Host> {
  const plan = planActors(options, 'startThreadsHost');
  const ringBytes = checkRingBytes(options.ringBytes, 'startThreadsHost');
  const stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  if (!(stallTimeoutMs >= 0)) throw new RangeError(`startThreadsHost: stallTimeoutMs must be a number of ms >= 0, got ${stallTimeoutMs}`);
  const host = new ThreadsHost(plan, ringBytes, options.shutdownTimeoutMs ?? 2000, stallTimeoutMs);
  await host.start(options.startTimeoutMs ?? 60_000);
  return host;
}
