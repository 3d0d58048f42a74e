/// <reference path="./comlink-node-adapter.d.ts" />
// The entry of one actor worker: exposes the control plane over comlink and wires the actor's rings.
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { asyncScheduler } from 'rxjs';
import { loadActorDefinition } from '../../actor/definition.ts';
import { ActorCrashedError, ActorStoppedError } from '../../errors.ts';
import type { ActorId } from '../../actor/ids.ts';
import { type ActorPort, ActorRunner } from '../../actor/runner.ts';
import { ChannelClosedError } from '../../errors.ts';
import type { ChannelMessage, ChannelSender } from '../../channel/message.ts';
import { type RingChannelReceiver, ringReceiver } from '../../channel/receiver.ts';
import { type RingDescriptor, abortReason, controlWords } from '../../channel/ring.ts';
import { ringSender } from '../../channel/sender.ts';
import type { ActorControl, ActorWorkerData, WorkerEvent, WorkerInit } from './control.ts';
import { WallClockDevice } from './device.ts';
import { prepareToImport } from './typescript-modules.ts';

const data = workerData as ActorWorkerData;
// Proof of life for the host: the count moves only while this thread's event loop turns.
setInterval(() => Atomics.add(data.heartbeat, 0, 1), data.heartbeatMs).unref();
const senders = new Map<ActorId, ChannelSender>();
const outgoing = new Map<ActorId, RingDescriptor>();
const receivers: RingChannelReceiver[] = [];
let runner: ActorRunner | undefined;

/** A crash leaves the worker as an uncaught exception: the host sees it as the worker's 'error' event. */
function crashWorker(error: unknown): never {
  throw error instanceof Error ? error : new Error(String(error));
}

/** Why a channel closed, from the ring itself: the host aborts a dead actor's rings with the crash's cause. */
function stoppedReason(ring: RingDescriptor | undefined): string {
  const aborted = ring ? abortReason(ring, controlWords(ring)) : undefined;
  return aborted === undefined ? 'it shut down' : `crashed: ${aborted}`;
}

function portFor(init: WorkerInit): ActorPort {
  const id = init.placement.id;
  const clock = () => performance.timeOrigin + performance.now() - init.epochMs;
  return {
    host: 'threads',
    scheduler: asyncScheduler,
    device: new WallClockDevice(),
    now: clock,
    async send(to: ActorId, message: ChannelMessage): Promise<void> {
      const sender = senders.get(to);
      if (!sender) throw new Error(`actor "${id}": no channel to "${to}"`);
      try {
        await sender.send(message);
      } catch (error) {
        if (error instanceof ChannelClosedError) throw new ActorStoppedError(to, stoppedReason(outgoing.get(to)));
        throw error;
      }
    },
    log(event: string, detail: unknown): void {
      const entry: WorkerEvent = detail === undefined ? { time: clock(), actor: id, event } : { time: clock(), actor: id, event, detail };
      data.events.postMessage(entry);
    },
    crash(error: unknown): void {
      setImmediate(() => crashWorker(error));
    },
    resume(): void {
      for (const receiver of receivers) receiver.resume();
    },
  };
}

const control: ActorControl = {
  async init(init: WorkerInit): Promise<void> {
    if (runner) throw new Error(`actor "${init.placement.id}": init called twice`);
    await prepareToImport(init.moduleUrl);
    const definition = await loadActorDefinition(init.moduleUrl);
    for (const [to, ring] of init.outgoing) {
      outgoing.set(to, ring);
      senders.set(to, ringSender(ring));
    }
    runner = new ActorRunner(init.placement, portFor(init));
    await runner.start(definition, init.config);
    const actor = runner;
    for (const [from, ring] of init.incoming) {
      // The receiver stops reading while the actor is at its in-flight limit: the ring fills, the peer waits.
      const receiver = ringReceiver(ring, { ready: () => actor.ready });
      receivers.push(receiver);
      receiver.inbox$.subscribe({
        next: (message) => actor.deliver(from, message),
        error: (error: unknown) => {
          // An aborted ring means the peer died; any other error is this actor failing to read: its own crash.
          if (error instanceof ChannelClosedError) actor.peerDown(from, new ActorCrashedError(from, abortReason(ring, controlWords(ring)) ?? error));
          else setImmediate(() => crashWorker(error));
        },
      });
    }
  },

  stats() {
    if (!runner) throw new Error('stats: the actor has not been initialised');
    return runner.stats();
  },

  async shutdown(): Promise<void> {
    try {
      await runner?.stop();
    } finally {
      for (const sender of senders.values()) sender.close();
      for (const receiver of receivers) receiver.close();
      data.events.close();
    }
  },
};

if (!parentPort) throw new Error('host/threads/worker.ts runs only inside a worker thread');
Comlink.expose(control, nodeEndpoint(parentPort));
