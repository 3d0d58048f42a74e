import { type Observable, type SchedulerLike, Subject } from 'rxjs';
import type { Envelope } from '../../actor/context.ts';
import { type ActorDefinition, loadActorDefinition } from '../../actor/definition.ts';
import { ActorCrashedError, ActorSpawnError, ActorStoppedError } from '../../errors.ts';
import { type ActorId, DRIVER } from '../../actor/ids.ts';
import { type ActorPort, ActorRunner, type ActorStats, type Sender } from '../../actor/runner.ts';
import { ActorIndex } from '../../actor/id-set.ts';
import { SeededRandom } from '../../random/seeded-random.ts';
import { MessageTooLargeError } from '../../errors.ts';
import type { ChannelMessage } from '../../channel/message.ts';
import { RECORD_ALIGN } from '../../channel/ring.ts';
import { roundUp } from '../../memory/align.ts';
import { type MeasuredMessage, measureMessage } from '../../channel/record.ts';
import { NOT_PLAIN, clonePlainData, copyPlainData, frozenPlainCopy } from '../../channel/plain-data.ts';
import { DriverInbox } from '../driver.ts';
import { type ActorEvent, type Host, type HostOptions, type PlannedActor, checkRingBytes, planActors } from '../host.ts';
import { describeError, startTimeoutMessage, withTimeout } from '../supervision.ts';
import { claimRejections } from './rejections.ts';
import { VirtualClock } from './clock.ts';
import { DEFAULT_EVENT_LOG_LIMIT, EventLog } from './event-log.ts';
import { DEFAULT_DEVICE_COST, type DeviceCost, DevicesBusy, SimDevice } from './device.ts';
import { DEFAULT_LINK, type LinkProfile, NetworkPort, SimLink, checkLinkProfile } from './link.ts';
import { type Arrivals, Inbound, LinkEnd, type SimActor } from './inbound.ts';

export interface SimHostOptions extends HostOptions {
  /** Every link's cost, or a cost per directed pair (the driver's links too). Default DEFAULT_LINK. */
  readonly link?: LinkProfile | ((from: ActorId, to: ActorId) => LinkProfile);
  /** What each device op costs. Default DEFAULT_DEVICE_COST (a roofline of one core here). */
  readonly deviceCost?: DeviceCost;
  /** Keep the latest events in `host.events` (default true). events$ emits either way. */
  readonly recordEvents?: boolean;
  /**
   * How many of the latest events `host.events` keeps (default DEFAULT_EVENT_LOG_LIMIT, 100,000): the log is
   * a ring, so a long run's memory stays bounded; `eventsDropped` counts what it let go.
   */
  readonly eventLogLimit?: number;
  /**
   * How long (wall clock) every setup may take before start fails (default 60 s). Wall clock, not virtual:
   * a setup may await real I/O (a checkpoint read) that virtual time knows nothing of.
   */
  readonly startTimeoutMs?: number;
  /** How long (wall clock) each actor's `stop` may take at shutdown before the host stops waiting for it (default 2 s). */
  readonly shutdownTimeoutMs?: number;
}

/** The sim host: a Host on virtual time, with its event log. */
export interface SimHost extends Host {
  readonly kind: 'sim';
  /** The latest events (at most `eventLogLimit`), oldest first: identical for identical runs with one seed. */
  readonly events: readonly ActorEvent[];
  /** Events older than those in `events`, let go to keep the log bounded. */
  readonly eventsDropped: number;
  /** Resolves when nothing is left to happen: no event pending, every continuation run. */
  idle(): Promise<void>;
  /** Events run so far. */
  readonly eventsRun: number;
}

const NOTHING = (): void => {};

/** The message its receiver gets: the measured (copied) meta, and a copy of each tensor. */
function receivedCopy(kind: string, measured: MeasuredMessage): ChannelMessage {
  const copy: { kind: string; meta?: unknown; tensors?: ChannelMessage['tensors'] } = { kind };
  if (measured.meta !== undefined) copy.meta = measured.meta;
  if (measured.tensors.length > 0) copy.tensors = measured.tensors.map((t) => t.clone());
  return copy;
}

/**
 * Detail values go through JSON, as they would crossing threads: the log holds plain data only. Plain data
 * is copied without the text (what the JSON round trip would give); anything else takes the round trip.
 */
function plain(detail: unknown): unknown {
  if (detail === undefined) return undefined;
  const copy = copyPlainData(detail);
  return copy === NOT_PLAIN ? JSON.parse(JSON.stringify(detail)) : copy;
}

class VirtualHost implements SimHost {
  readonly kind = 'sim';
  readonly actors: readonly ActorId[];
  failure: ActorCrashedError | undefined;
  private readonly clock: VirtualClock;
  private readonly simActors = new Map<ActorId, SimActor>();
  /**
   * Each sender's links by destination, made on first use: a host has a link per directed pair, most of them
   * idle at hundreds of actors. Looked up by ids, not by a name built per message.
   */
  private readonly linksFrom = new Map<ActorId, Map<ActorId, SimLink<LinkEnd>>>();
  /** Each actor's receiving side (the driver's first, then the actors' in plan order). */
  private readonly inbound = new Map<ActorId, Inbound>();
  /** What links hand their messages to. */
  private readonly arrivals: Arrivals = {
    toDriver: (from, message) => this.arriveAtDriver(from, message),
    toActor: (to, from, message) => this.arriveAtActor(to, from, message),
  };
  /** Each actor's network ports, shared by its links out and in. */
  private readonly egress = new Map<ActorId, NetworkPort>();
  private readonly ingress = new Map<ActorId, NetworkPort>();
  /** Every link's jitter and duplicate draws come from this one seeded stream, in send order. */
  private readonly linkRandom: () => number;
  /** The checked profile when every link has the same one. */
  private readonly sharedProfile: LinkProfile | undefined;
  private readonly devices = new Map<ActorId, SimDevice>();
  private readonly devicesBusy = new DevicesBusy();
  private readonly driver: DriverInbox;
  private readonly eventLog = new Subject<ActorEvent>();
  /** Undefined when recordEvents is off. */
  private readonly kept: EventLog | undefined;
  private readonly capacityBytes: number;
  private closing: Promise<void> | undefined;
  /** Set while actors set up: an actor that crashes meanwhile fails the start. */
  private failStart: ((error: Error) => void) | undefined;
  private readonly releaseRejections: () => void;
  readonly events$: Observable<ActorEvent> = this.eventLog.asObservable();

  constructor(
    plan: readonly PlannedActor[],
    private readonly options: SimHostOptions,
  ) {
    this.actors = plan.map((p) => p.placement.id);
    this.driver = new DriverInbox(this.actors);
    this.clock = new VirtualClock((error) => this.internalError(error));
    this.kept = (options.recordEvents ?? true) ? new EventLog(options.eventLogLimit ?? DEFAULT_EVENT_LOG_LIMIT) : undefined;
    this.capacityBytes = roundUp(checkRingBytes(options.ringBytes, 'startSimHost'), RECORD_ALIGN);
    const seed = plan[0].placement.seed;
    const links = SeededRandom.forName(seed, 'sim-links');
    this.linkRandom = (): number => links.next();
    const link = options.link;
    this.sharedProfile = typeof link === 'function' ? undefined : checkLinkProfile(link ?? DEFAULT_LINK, 'startSimHost: link');
    this.addEndpoint(DRIVER, undefined);
    const ids = new ActorIndex();
    for (const p of plan) {
      const id = p.placement.id;
      this.linksFrom.set(id, new Map());
      // Checked now, so a bad profile fails the start rather than a send; the link itself is made on first use.
      if (typeof link === 'function') {
        for (const to of p.placement.destinations) checkLinkProfile(link(id, to), `startSimHost: link ${id}->${to}`);
        checkLinkProfile(link(DRIVER, id), `startSimHost: link ${DRIVER}->${id}`);
      }
      const device = new SimDevice(id, this.clock, options.deviceCost ?? DEFAULT_DEVICE_COST, (event, detail) => this.record(id, event, detail), this.logging, this.devicesBusy);
      this.devices.set(id, device);
      const actor: SimActor = { plan: p, runner: new ActorRunner(p.placement, this.portFor(id, device), ids), state: 'starting', stopReason: 'it is starting' };
      this.simActors.set(id, actor);
      this.addEndpoint(id, actor);
    }
    this.releaseRejections = claimRejections((runner, reason) => {
      if (this.simActors.get(runner.id)?.runner !== runner) return false;
      runner.crash(reason);
      return true;
    });
  }

  get events(): readonly ActorEvent[] {
    return this.kept?.events() ?? [];
  }

  get eventsDropped(): number {
    return this.kept?.dropped ?? 0;
  }

  get eventsRun(): number {
    return this.clock.eventsRun;
  }

  get inbox$(): Observable<Envelope> {
    return this.driver.inbox$;
  }

  inboxFrom(actor: ActorId): Observable<ChannelMessage> {
    return this.driver.inboxFrom(actor);
  }

  get crashes$(): Observable<ActorCrashedError> {
    return this.driver.crashes$;
  }

  get scheduler(): SchedulerLike {
    return this.clock.scheduler;
  }

  now(): number {
    return this.clock.time;
  }

  idle(): Promise<void> {
    return this.closing ? Promise.resolve() : this.clock.idle();
  }

  async start(definitions: ReadonlyMap<ActorId, ActorDefinition>): Promise<void> {
    const pending = new Set(this.actors);
    // An engine hands all its ranks one config object (its expert placement alone is thousands of arrays): a
    // copy per actor made start O(actors²) in time and memory. Actors given the same object share one frozen
    // copy, so none can change what a peer sees; a config that is not plain data is copied per actor.
    const copies = new Map<unknown, unknown>();
    const configFor = (config: unknown): unknown => {
      if (!copies.has(config)) copies.set(config, frozenPlainCopy(config));
      const shared = copies.get(config);
      return shared === NOT_PLAIN ? structuredClone(config) : shared;
    };
    const setups = [...this.simActors.values()].map(async (actor) => {
      const id = actor.plan.placement.id;
      try {
        await actor.runner.start(definitions.get(id) as ActorDefinition, configFor(actor.plan.config));
      } catch (error) {
        throw new ActorSpawnError(id, actor.plan.moduleUrl, error);
      }
      pending.delete(id);
      if (actor.state === 'starting') actor.state = 'running';
      this.record(id, 'start');
      this.resume(id);
    });
    const crashed = new Promise<never>((_, reject) => (this.failStart = reject));
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    // A referenced timer: a setup stuck on nothing else pending must still fail rather than end the process.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`sim host: ${startTimeoutMessage(pending, this.actors.length, timeoutMs)}`)), timeoutMs);
    });
    try {
      await Promise.race([Promise.all(setups), crashed, timedOut]);
    } catch (error) {
      await this.shutdown();
      throw error;
    } finally {
      clearTimeout(timer);
      this.failStart = undefined;
    }
  }

  async send(to: ActorId, message: ChannelMessage): Promise<void> {
    this.simActor(to, 'send');
    return this.transmit(DRIVER, to, message, this.linksFrom.get(DRIVER) as Map<ActorId, SimLink<LinkEnd>>);
  }

  async stats(actor: ActorId): Promise<ActorStats> {
    const a = this.simActor(actor, 'stats');
    if (a.state !== 'running') throw new ActorStoppedError(actor, a.stopReason);
    return clonePlainData(a.runner.stats());
  }

  shutdown(): Promise<void> {
    this.closing ??= this.close();
    return this.closing;
  }

  private async close(): Promise<void> {
    // Wall clock (a timer; the sim host never reads the clock), not virtual: a stop that never resolves must not hang shutdown.
    const timeoutMs = this.options.shutdownTimeoutMs ?? 2000;
    for (const actor of this.simActors.values()) {
      const id = actor.plan.placement.id;
      if (actor.state === 'running' || actor.state === 'starting') {
        actor.state = 'stopped';
        actor.stopReason = 'it was shut down';
        try {
          await withTimeout(actor.runner.stop(), timeoutMs, `its stop did not finish within ${timeoutMs} ms`, { keepAlive: true });
        } catch (error) {
          this.record(id, 'stop-error', { message: describeError(error) });
        }
        this.record(id, 'stop');
      }
    }
    // Nothing runs after the clock stops: whatever waits for it (ring space, a device result) fails now.
    for (const [to, into] of this.inbound) {
      const error = new ActorStoppedError(to, 'the host shut down');
      for (const link of into.links) link.fail(error);
    }
    for (const [id, device] of this.devices) device.fail(new ActorStoppedError(id, 'the host shut down'));
    this.clock.stop();
    this.driver.shutDown();
    this.eventLog.complete();
    // Rejections that shutdown itself causes (sends failed just above) surface after this turn: still ours.
    setImmediate(this.releaseRejections);
  }

  /**
   * Puts a message on the from→to link: measured and copied now, delivered at its arrival time. Resolves one
   * promise step after the link admits it, rejects (never throws) on a bad message or a stopped receiver.
   */
  private transmit(from: ActorId, to: ActorId, message: ChannelMessage, out: Map<ActorId, SimLink<LinkEnd>>): Promise<void> {
    let link: SimLink<LinkEnd>;
    let recordBytes: number;
    let wireBytes: number;
    let copy: ChannelMessage;
    try {
      const known = out.get(to);
      // The link's receiving end knows its actor: no lookup by id per message once the link exists.
      const target = known ? known.receiver.into.actor : to === DRIVER ? undefined : (this.simActors.get(to) as SimActor);
      if (target && target.state !== 'running' && target.state !== 'starting') throw new ActorStoppedError(to, target.stopReason);
      link = known ?? this.addLink(from, to, out);
      const measured = measureMessage(link.name, message);
      recordBytes = measured.recordBytes;
      if (recordBytes > link.capacityBytes) throw new MessageTooLargeError(link.name, recordBytes, link.capacityBytes);
      copy = receivedCopy(message.kind, measured);
      const virtualBytes = message.virtualBytes ?? 0;
      if (!(Number.isFinite(virtualBytes) && virtualBytes >= 0)) throw new RangeError(`${link.name}: virtualBytes must be a finite number >= 0, got ${virtualBytes}`);
      wireBytes = recordBytes + virtualBytes;
      if (this.logging()) this.record(from, 'send', { to, kind: message.kind, bytes: wireBytes });
    } catch (error) {
      return Promise.reject(error);
    }
    const admitted = link.send(recordBytes, copy, wireBytes);
    // What `await admitted` then return gives, as a plain reaction: the sender's continuation runs at the
    // same promise step as before, so actors' interleaving (and the device-op order) is unchanged.
    if (!link.mayDuplicate) return admitted.then(NOTHING);
    return this.maybeAgain(admitted, link, recordBytes, copy, wireBytes);
  }

  /** A link that may deliver twice draws for it once the first copy is admitted, and sends the second. */
  private async maybeAgain(admitted: Promise<void>, link: SimLink, recordBytes: number, copy: ChannelMessage, wireBytes: number): Promise<void> {
    await admitted;
    if (link.duplicates()) {
      const again = { ...copy, tensors: copy.tensors?.map((t) => t.clone()) };
      await link.send(recordBytes, again, wireBytes);
    }
  }

  private arriveAtDriver(from: ActorId, message: ChannelMessage): void {
    if (this.logging()) this.record(DRIVER, 'receive', { from, kind: message.kind });
    this.driver.deliver(from, message);
  }

  private arriveAtActor(target: SimActor, from: Sender, message: ChannelMessage): void {
    const to = target.plan.placement.id;
    if (target.state !== 'running' && target.state !== 'starting') {
      this.record(to, 'drop', { from: from.id, kind: message.kind });
      return;
    }
    if (this.logging()) this.record(to, 'receive', { from: from.id, kind: message.kind });
    target.runner.deliverFrom(from, message);
  }

  /** An actor threw: fail everything that waits on it, and let peers drain what it sent before it died. */
  private crash(id: ActorId, cause: unknown): void {
    const actor = this.simActors.get(id) as SimActor;
    if (actor.state !== 'running' && actor.state !== 'starting') return;
    const error = new ActorCrashedError(id, cause);
    actor.state = 'crashed';
    actor.stopReason = `crashed: ${describeError(cause)}`;
    this.failure ??= error;
    this.record(id, 'crash', { message: error.message });
    this.failStart?.(new ActorSpawnError(id, actor.plan.moduleUrl, cause));
    this.driver.actorCrashed(error);
    for (const link of this.inbound.get(id)?.links ?? []) link.fail(new ActorStoppedError(id, actor.stopReason));
    for (const peer of this.simActors.values()) {
      if (peer === actor) continue;
      const drainedAt = this.linksFrom.get(id)?.get(peer.plan.placement.id)?.drainedAt ?? this.clock.time;
      this.clock.at(drainedAt, () => peer.runner.peerDown(id, error));
    }
  }

  private internalError(error: unknown): void {
    this.driver.fail(error instanceof Error ? error : new Error(String(error)));
  }

  private portFor(id: ActorId, device: SimDevice): ActorPort {
    const out = this.linksFrom.get(id) as Map<ActorId, SimLink<LinkEnd>>;
    return {
      host: 'sim',
      scheduler: this.clock.scheduler,
      device,
      now: () => this.clock.time,
      send: (to, message) => this.transmit(id, to, message, out),
      log: (event, detail) => {
        if (this.logging()) this.record(id, event, plain(detail));
      },
      crash: (error) => this.crash(id, error),
      resume: () => this.resume(id),
    };
  }

  /** The receiving side of `to` (the driver when `actor` is undefined), and its network ports. */
  private addEndpoint(to: ActorId, actor: SimActor | undefined): void {
    this.inbound.set(to, new Inbound(actor));
    if (!this.linksFrom.has(to)) this.linksFrom.set(to, new Map());
    this.egress.set(to, new NetworkPort());
    this.ingress.set(to, new NetworkPort());
  }

  /** Makes the from→to link (`out`: from's links), on first use. The runner (or `send`, for the driver) has checked the route. */
  private addLink(from: ActorId, to: ActorId, out: Map<ActorId, SimLink<LinkEnd>>): SimLink<LinkEnd> {
    const profile = this.sharedProfile ?? checkLinkProfile((this.options.link as (from: ActorId, to: ActorId) => LinkProfile)(from, to), `sim host: link ${from}->${to}`);
    const into = this.inbound.get(to) as Inbound;
    const end = new LinkEnd(into, into.actor?.runner.sender(from), this.arrivals);
    const link = new SimLink(from, to, this.clock, profile, this.capacityBytes, this.linkRandom, end, this.egress.get(from), this.ingress.get(to));
    out.set(to, link);
    into.links.push(link);
    return link;
  }

  /**
   * `to` may take messages again: each link into it that holds messages it was not ready for hands them over,
   * as a virtual-time event. Only those links are visited, so the cost does not grow with the actor count.
   */
  private resume(to: ActorId): void {
    const blocked = this.inbound.get(to)?.blocked;
    if (!blocked || blocked.size === 0) return;
    this.clock.at(this.clock.time, () => {
      const links = [...blocked];
      blocked.clear();
      for (const link of links) link.flush();
    });
  }

  /** Whether an event would be seen (kept or observed): when not, callers skip building its detail. */
  private readonly logging = (): boolean => this.kept !== undefined || this.eventLog.observed;

  private record(actor: ActorId, event: string, detail?: unknown): void {
    const entry: ActorEvent = detail === undefined ? { time: this.clock.time, actor, event } : { time: this.clock.time, actor, event, detail };
    this.kept?.push(entry);
    this.eventLog.next(entry);
  }

  private simActor(actor: ActorId, where: string): SimActor {
    const a = this.simActors.get(actor);
    if (!a) throw new TypeError(`sim host: ${where}: no actor "${actor}" (actors: ${this.actors.join(', ')})`);
    return a;
  }
}

/**
 * Starts every actor in this thread on virtual time: links and devices cost what the options say, and a
 * run is a pure function of the specs, the seed and what the driver sends.
 */
export async function startSimHost(options: SimHostOptions): Promise<SimHost> {
  const plan = planActors(options, 'startSimHost');
  const definitions = new Map<ActorId, ActorDefinition>();
  for (const p of plan) {
    try {
      definitions.set(p.placement.id, await loadActorDefinition(p.moduleUrl));
    } catch (error) {
      throw new ActorSpawnError(p.placement.id, p.moduleUrl, error);
    }
  }
  const host = new VirtualHost(plan, options);
  await host.start(definitions);
  return host;
}
