import type { ActorEvent } from '../host.ts';

/** How many of the latest events a sim host keeps by default (≈ 100–200 bytes each). */
export const DEFAULT_EVENT_LOG_LIMIT = 100_000;

/**
 * The sim host's event log: the latest `limit` events in a ring, so a long run's memory stays bounded;
 * older ones are counted as dropped. Pushing is O(1); reading copies the ring once, in order.
 */
export class EventLog {
  private readonly ring: ActorEvent[] = [];
  /** Where the oldest event sits once the ring is full. */
  private head = 0;
  private snapshot: readonly ActorEvent[] | undefined;
  dropped = 0;

  constructor(readonly limit: number) {
    if (!(Number.isInteger(limit) && limit >= 0)) throw new RangeError(`startSimHost: eventLogLimit must be an integer >= 0, got ${limit}`);
  }

  push(event: ActorEvent): void {
    this.snapshot = undefined;
    if (this.ring.length < this.limit) {
      this.ring.push(event);
      return;
    }
    if (this.limit === 0) {
      this.dropped++;
      return;
    }
    this.ring[this.head] = event;
    this.head = this.head + 1 === this.limit ? 0 : this.head + 1;
    this.dropped++;
  }

  /** The kept events, oldest first. */
  events(): readonly ActorEvent[] {
    this.snapshot ??= this.head === 0 ? this.ring.slice() : [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
    return this.snapshot;
  }
}
