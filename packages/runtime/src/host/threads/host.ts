/// <reference path="./comlink-node-adapter.d.ts" />
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { type Observable, Subject, asyncScheduler } from 'rxjs';
import type { Envelope } from '../../actor/context.ts';
import { ActorCrashedError, ActorSpawnError, ActorStoppedError } from '../../actor/errors.ts';
import { type ActorId, DRIVER } from '../../actor/ids.ts';
import type { ActorStats } from '../../actor/runner.ts';
import { ChannelClosedError } from '../../channel/errors.ts';
import type { ChannelMessage, ChannelReceiver, ChannelSender } from '../../channel/message.ts';
import { ringReceiver } from '../../channel/receiver.ts';
import { type RingDescriptor, abortRing, createRing } from '../../channel/ring.ts';
import { ringSender } from '../../channel/sender.ts';
import { DriverInbox } from '../driver.ts';
import { type ActorEvent, type Host, type HostOptions, type PlannedActor, checkRingBytes, planActors } from '../host.ts';
import { describeError, raceDeath, withTimeout } from '../supervision.ts';
import type { ActorControl, ActorWorkerData, WorkerEvent, WorkerInit } from './control.ts';

const SHIM = new URL('./worker-shim.mjs', import.meta.url);
const ENTRY = new URL('./worker.ts', import.meta.url).href;

export interface ThreadsHostOptions extends HostOptions {
  /** How long loading modules and running every setup may take before start fails (default 60 s). */
  readonly startTimeoutMs?: number;
  /** How long an actor's graceful stop may take at shutdown before its worker is terminated (default 2 s). */
  readonly shutdownTimeoutMs?: number;
}

type ThreadState = 'starting' | 'running' | 'crashed' | 'stopping' | 'stopped';

interface Channel {
  readonly from: ActorId;
  readonly to: ActorId;
  readonly ring: RingDescriptor;
}

/** One actor's worker, its control plane, and the promise that rejects when it dies. */
class ActorThread {
  state: ThreadState = 'starting';
  stopReason = 'it is starting';
  readonly worker: Worker;
  readonly control: Comlink.Remote<ActorControl>;
  readonly events: MessagePort;
  readonly died: Promise<never>;
  readonly exited: Promise<void>;
  /** The worker closed its end of the event port: every event it logged has arrived. */
  readonly eventsClosed: Promise<void>;
  private rejectDied: (error: Error) => void = () => {};

  constructor(readonly plan: PlannedActor) {
    const channel = new MessageChannel();
    const workerData: ActorWorkerData = { entry: ENTRY, events: channel.port2 };
    this.worker = new Worker(SHIM, { workerData, transferList: [channel.port2], name: plan.placement.id });
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

  die(error: ActorCrashedError): void {
    this.state = 'crashed';
    this.stopReason = `crashed: ${describeError(error.cause)}`;
    this.rejectDied(error);
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
  readonly events$: Observable<ActorEvent> = this.eventLog.asObservable();

  constructor(
    private readonly plan: readonly PlannedActor[],
    ringBytes: number,
    private readonly shutdownTimeoutMs: number,
  ) {
    this.actors = plan.map((p) => p.placement.id);
    this.driver = new DriverInbox(this.actors);
    for (const { placement } of plan) {
      for (const to of placement.destinations) this.channels.push(this.channel(placement.id, to, ringBytes));
      this.channels.push(this.channel(DRIVER, placement.id, ringBytes));
    }
    for (const { from, to, ring } of this.channels) {
      if (from === DRIVER) this.driverSenders.set(to, ringSender(ring));
      if (to !== DRIVER) continue;
      const receiver = ringReceiver(ring);
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

  inboxFrom(actor: ActorId): Observable<ChannelMessage> {
    return this.driver.inboxFrom(actor);
  }

  now(): number {
    return performance.timeOrigin + performance.now() - this.epochMs;
  }

  async start(timeoutMs: number): Promise<void> {
    for (const plan of this.plan) this.threads.set(plan.placement.id, this.spawn(plan));
    const started = [...this.threads.values()].map(async (thread) => {
      try {
        await raceDeath(thread.control.init(this.initFor(thread.plan)), thread.died);
        if (thread.state === 'starting') thread.state = 'running';
        this.record(thread.id, 'start');
      } catch (error) {
        throw new ActorSpawnError(thread.id, thread.plan.moduleUrl, error instanceof ActorCrashedError ? error.cause : error);
      }
    });
    try {
      await withTimeout(Promise.all(started), timeoutMs, `threads host: actors did not start within ${timeoutMs} ms`);
    } catch (error) {
      await this.shutdown();
      throw error;
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
    return raceDeath(thread.control.stats(), thread.died);
  }

  shutdown(): Promise<void> {
    this.closing ??= this.close();
    return this.closing;
  }

  private async close(): Promise<void> {
    await Promise.all([...this.threads.values()].map((thread) => this.stopThread(thread)));
    for (const sender of this.driverSenders.values()) sender.close();
    for (const receiver of this.driverReceivers) receiver.close();
    this.driver.complete();
    this.eventLog.complete();
  }

  private async stopThread(thread: ActorThread): Promise<void> {
    if (thread.state === 'running') {
      thread.state = 'stopping';
      try {
        await withTimeout(raceDeath(thread.control.shutdown(), thread.died), this.shutdownTimeoutMs, 'graceful stop timed out');
        await withTimeout(thread.eventsClosed, this.shutdownTimeoutMs, 'its event port did not close');
      } catch (error) {
        this.record(thread.id, 'stop-error', { message: describeError(error) });
      }
    }
    if (thread.state !== 'crashed') {
      thread.state = 'stopped';
      thread.stopReason = 'it was shut down';
    }
    thread.events.close();
    await thread.worker.terminate();
    await thread.exited;
    this.record(thread.id, 'stop');
  }

  private spawn(plan: PlannedActor): ActorThread {
    const thread = new ActorThread(plan);
    thread.worker.on('error', (error) => this.crash(thread, error));
    thread.worker.on('exit', (code) => this.crash(thread, new Error(`its worker exited with code ${code}`)));
    thread.events.on('message', (event: WorkerEvent) => this.eventLog.next(event));
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
    this.driver.fail(error);
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
 */
export async function startThreadsHost(options: ThreadsHostOptions): Promise<Host> {
  const plan = planActors(options, 'startThreadsHost');
  const ringBytes = checkRingBytes(options.ringBytes, 'startThreadsHost');
  const host = new ThreadsHost(plan, ringBytes, options.shutdownTimeoutMs ?? 2000);
  await host.start(options.startTimeoutMs ?? 60_000);
  return host;
}
