import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Observable, SchedulerLike } from 'rxjs';
import type { Envelope, HostKind } from '../actor/context.ts';
import { type ActorCrashedError, ActorSpawnError } from '../errors.ts';
import { type ActorId, DRIVER, checkActorId } from '../actor/ids.ts';
import type { ActorPlacement, ActorStats } from '../actor/runner.ts';
import type { ChannelMessage } from '../channel/message.ts';

/** One actor to start: which module, with what config, and where it may send. */
export interface ActorSpec<Config = unknown> {
  readonly id: ActorId;
  /** Absolute path or file: URL of a module whose default export is `defineActor(...)`. */
  readonly module: string | URL;
  /** Passed to the actor's setup. Must be structured-cloneable (it crosses into a worker). */
  readonly config?: Config;
  /** The actors (and DRIVER) it sends to: one channel each. Every other actor and the driver when absent. */
  readonly sendsTo?: readonly ActorId[];
  /** Budget of the actor's arena (`ctx.arena`), bytes. Default 64 MiB. */
  readonly arenaBytes?: number;
  /**
   * Most onMessage promises pending at once (default 16). Past it, later messages stay in the channels'
   * rings, so senders wait: memory stays bounded however fast they send. Messages still start in arrival order.
   */
  readonly maxInFlight?: number;
}

export interface HostOptions {
  readonly actors: readonly ActorSpec[];
  /** Seeds each actor's `ctx.random()` (and, under sim, link jitter). Default 1. */
  readonly seed?: number;
  /** Capacity of each directed channel's ring, bytes (default 1 MiB). A bigger message is an error. */
  readonly ringBytes?: number;
}

/** One entry of a host's event log. */
export interface ActorEvent {
  /** ms since the host started (virtual under sim). */
  readonly time: number;
  readonly actor: ActorId;
  readonly event: string;
  readonly detail?: unknown;
}

/**
 * A running set of actors. The code holding it acts as the DRIVER endpoint: it sends to actors and
 * receives what they send to DRIVER. The same driver code works against both hosts.
 */
export interface Host {
  readonly kind: HostKind;
  readonly actors: readonly ActorId[];
  /** ms since the host started: wall clock (threads) or virtual (sim). */
  now(): number;
  /** The driver's scheduler on the host's clock (virtual under sim): a workload times its arrivals with it. */
  readonly scheduler: SchedulerLike;
  /** Sends as DRIVER. Rejects with ActorStoppedError if the actor has stopped. */
  send(to: ActorId, message: ChannelMessage): Promise<void>;
  /**
   * Everything actors send to DRIVER (hot: subscribe before sending). Errors on the first actor crash (a driver
   * waiting here may be waiting for the dead actor), and with a clear error once the host shuts down.
   */
  readonly inbox$: Observable<Envelope>;
  /**
   * What one actor sends to DRIVER (hot). Errors with ActorCrashedError when that actor crashes, and with
   * ActorStoppedError once the host shuts down; another actor's crash does not touch it.
   */
  inboxFrom(actor: ActorId): Observable<ChannelMessage>;
  /** Every actor crash, in order (a late subscriber gets the earlier ones first); completes at shutdown. */
  readonly crashes$: Observable<ActorCrashedError>;
  /** Events actors log with ctx.log, plus the host's own (start, crash, stop, and under sim every send/receive). */
  readonly events$: Observable<ActorEvent>;
  /**
   * Rejects with ActorStoppedError for a stopped actor, ActorCrashedError if it dies meanwhile; a call still
   * pending at shutdown rejects with ActorStoppedError.
   */
  stats(actor: ActorId): Promise<ActorStats>;
  /** The first crash, if any. */
  readonly failure: ActorCrashedError | undefined;
  /** Stops every actor (its `stop` runs first) and releases threads and channels. Idempotent. */
  shutdown(): Promise<void>;
}

export const DEFAULT_RING_BYTES = 1 << 20;
export const DEFAULT_ARENA_BYTES = 64 << 20;
export const DEFAULT_MAX_IN_FLIGHT = 16;

/** An actor spec checked and resolved: where its module is and what it may do. */
export interface PlannedActor {
  readonly placement: ActorPlacement;
  readonly moduleUrl: string;
  readonly config: unknown;
}

function moduleUrlOf(spec: ActorSpec): string {
  const { id, module } = spec;
  let url: URL;
  if (module instanceof URL) url = module;
  else if (typeof module === 'string' && module.startsWith('file:')) url = new URL(module);
  else if (typeof module === 'string' && isAbsolute(module)) url = pathToFileURL(module);
  else throw new ActorSpawnError(id, String(module), new TypeError('module must be an absolute path or a file: URL'));
  if (url.protocol !== 'file:') throw new ActorSpawnError(id, url.href, new TypeError('module must be a file: URL'));
  const path = fileURLToPath(url);
  if (!existsSync(path)) throw new ActorSpawnError(id, path, new Error('module not found'));
  return url.href;
}

/** Checks the specs (unique ids, existing modules, known destinations) and places each actor. */
export function planActors(options: HostOptions, where: string): PlannedActor[] {
  if (!Array.isArray(options.actors) || options.actors.length === 0) {
    throw new TypeError(`${where}: options.actors must list at least one actor spec`);
  }
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new TypeError(`${where}: seed must be an integer, got ${seed}`);
  const ids = options.actors.map((spec, i) => {
    checkActorId(spec?.id, `${where}: actors[${i}]`);
    return spec.id;
  });
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) throw new TypeError(`${where}: actor id "${duplicate}" is used twice`);
  return options.actors.map((spec) => {
    const peers = ids.filter((id) => id !== spec.id);
    const destinations = spec.sendsTo ? [...spec.sendsTo] : [...peers, DRIVER];
    for (const to of destinations) {
      if (to !== DRIVER && !peers.includes(to)) {
        throw new TypeError(`${where}: actor "${spec.id}" sendsTo "${to}", which is ${to === spec.id ? 'itself' : 'not an actor on this host'}`);
      }
    }
    if (new Set(destinations).size !== destinations.length) {
      throw new TypeError(`${where}: actor "${spec.id}" lists a destination twice in sendsTo`);
    }
    const arenaBytes = spec.arenaBytes ?? DEFAULT_ARENA_BYTES;
    if (!Number.isInteger(arenaBytes) || arenaBytes <= 0) {
      throw new RangeError(`${where}: actor "${spec.id}" arenaBytes must be a positive integer, got ${arenaBytes}`);
    }
    const maxInFlight = spec.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (!Number.isInteger(maxInFlight) || maxInFlight <= 0) {
      throw new RangeError(`${where}: actor "${spec.id}" maxInFlight must be a positive integer, got ${maxInFlight}`);
    }
    return {
      placement: { id: spec.id, peers, destinations, seed, arenaBytes, maxInFlight },
      moduleUrl: moduleUrlOf(spec),
      config: spec.config,
    };
  });
}

export function checkRingBytes(ringBytes: number | undefined, where: string): number {
  const bytes = ringBytes ?? DEFAULT_RING_BYTES;
  if (!Number.isInteger(bytes) || bytes < 64) throw new RangeError(`${where}: ringBytes must be an integer >= 64, got ${bytes}`);
  return bytes;
}
