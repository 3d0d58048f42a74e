import type { MessagePort } from 'node:worker_threads';
import type { ActorId } from '../../actor/ids.ts';
import type { ActorPlacement, ActorStats } from '../../actor/runner.ts';
import type { RingDescriptor } from '../../channel/ring.ts';
import type { ActorEvent } from '../host.ts';

/** Everything a worker needs to become one actor: sent once, over the control plane. */
export interface WorkerInit {
  readonly placement: ActorPlacement;
  readonly moduleUrl: string;
  readonly config: unknown;
  /** The host's start, as `performance.timeOrigin + performance.now()`: ctx.now() counts from it in every thread. */
  readonly epochMs: number;
  /** One ring per destination (this actor sends on it). */
  readonly outgoing: ReadonlyArray<readonly [ActorId, RingDescriptor]>;
  /** One ring per sender that may send here. */
  readonly incoming: ReadonlyArray<readonly [ActorId, RingDescriptor]>;
}

/** The control plane a worker exposes over comlink. */
export interface ActorControl {
  /** Loads the module, runs the actor's setup, then starts reading its channels. */
  init(init: WorkerInit): Promise<void>;
  stats(): ActorStats;
  /** Runs the behaviour's stop and closes every channel end; the host terminates the worker after. */
  shutdown(): Promise<void>;
}

/** What travels on the worker's event port (ctx.log). */
export type WorkerEvent = ActorEvent;

/** workerData of an actor worker. */
export interface ActorWorkerData {
  /** Port on which the worker posts its WorkerEvents. */
  readonly events: MessagePort;
  /** One Int32 the worker increments every `heartbeatMs` while its event loop turns: the host's stall check reads it. */
  readonly heartbeat: Int32Array;
  readonly heartbeatMs: number;
}
