import type { ActorId } from '../../actor/ids.ts';
import type { ActorRunner, Sender } from '../../actor/runner.ts';
import type { ChannelMessage } from '../../channel/message.ts';
import type { PlannedActor } from '../host.ts';
import type { LinkReceiver, SimLink } from './link.ts';

export type SimState = 'starting' | 'running' | 'crashed' | 'stopped';

/** One actor as the sim host keeps it. */
export interface SimActor {
  readonly plan: PlannedActor;
  readonly runner: ActorRunner;
  state: SimState;
  stopReason: string;
}

/** Where a message goes once its link hands it over: the host's part (its log, drops, the driver). */
export interface Arrivals {
  toDriver(from: ActorId, message: ChannelMessage): void;
  toActor(to: SimActor, from: Sender, message: ChannelMessage): void;
}

/** The receiving side of one actor (or of the driver): its links, and those a resume must flush. */
export class Inbound {
  /** Every link into it, in the order they were made. */
  readonly links: SimLink<LinkEnd>[] = [];
  /** Links holding messages it was not ready for: a resume flushes only these. */
  readonly blocked = new Set<SimLink<LinkEnd>>();

  /** `actor` undefined: the driver. */
  constructor(readonly actor: SimActor | undefined) {}

  /** Whether it takes a message now: an actor at its in-flight limit (or setting up) leaves it in the link. */
  takes(): boolean {
    const actor = this.actor;
    return actor === undefined || actor.state === 'crashed' || actor.state === 'stopped' || actor.runner.ready;
  }
}

/**
 * One link's receiving end: its destination's Inbound, and the sender as the receiving runner knows it, so a
 * message reaches its runner without a lookup by id (at hundreds of actors, every lookup is a cache miss).
 */
export class LinkEnd implements LinkReceiver {
  constructor(
    readonly into: Inbound,
    private readonly sender: Sender | undefined,
    private readonly arrivals: Arrivals,
  ) {}

  ready(): boolean {
    return this.into.takes();
  }

  blocked(link: SimLink<LinkEnd>): void {
    this.into.blocked.add(link);
  }

  take(from: ActorId, message: ChannelMessage): void {
    const actor = this.into.actor;
    if (actor === undefined) this.arrivals.toDriver(from, message);
    else this.arrivals.toActor(actor, this.sender as Sender, message);
  }
}
