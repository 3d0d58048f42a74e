import type { ActorContext, ChannelMessage } from '@asap/runtime';
import type { Subscription } from 'rxjs';

interface PendingGather {
  readonly peers: readonly number[];
  remaining: number;
  readonly resolve: (messages: ChannelMessage[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The lock-step ranks' inbox: each peer's messages in send order, read as gathers — the next message of
 * each of a set of peers, resolved when the last of them has arrived. A gather may name any subset (the
 * all-to-all of a step names only the peers that take part), so a rank waits on no message that carries
 * nothing. Work per message is O(1); a gather costs O(its peers). A peer's crash fails every gather.
 */
export class PeerInbox {
  private readonly queues: ChannelMessage[][];
  /** Per peer: whether the pending gather still waits for it. */
  private readonly waiting: Uint8Array;
  private pending: PendingGather | undefined;
  private failure: { error: unknown } | undefined;
  private readonly subscriptions: Subscription[];
  /** Messages arrived, and messages taken by gathers: equal when nothing waits to be read. */
  arrived = 0;
  taken = 0;

  constructor(
    ctx: ActorContext,
    readonly peers: readonly string[],
    private readonly name: string,
    /** Which messages are the barrier's (the rest reach only the actor's onMessage). */
    accepts: (message: ChannelMessage) => boolean,
    onArrival: () => void,
  ) {
    this.queues = peers.map(() => []);
    this.waiting = new Uint8Array(peers.length);
    this.subscriptions = peers.map((peer, i) =>
      ctx.inboxFrom(peer).subscribe({
        next: (message) => {
          if (!accepts(message)) return;
          this.arrived++;
          this.arrive(i, message);
          onArrival();
        },
        error: (error: unknown) => this.fail(error),
        complete: () => this.fail(new Error(`${this.name}: "${peer}" stopped`)),
      }),
    );
  }

  /** The next message of each peer in `peers` (indices into `this.peers`), in that order. */
  gather(peers: readonly number[]): Promise<ChannelMessage[]> {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.pending) return Promise.reject(new Error(`${this.name}: a gather is already pending`));
    let missing = 0;
    for (const i of peers) {
      if (this.queues[i].length === 0) {
        this.waiting[i] = 1;
        missing++;
      }
    }
    if (missing === 0) return Promise.resolve(this.take(peers));
    return new Promise<ChannelMessage[]>((resolve, reject) => (this.pending = { peers, remaining: missing, resolve, reject }));
  }

  close(): void {
    for (const s of this.subscriptions) s.unsubscribe();
    this.fail(new Error(`${this.name}: closed`));
  }

  private arrive(peer: number, message: ChannelMessage): void {
    const queue = this.queues[peer];
    queue.push(message);
    const pending = this.pending;
    if (!pending || this.waiting[peer] === 0 || queue.length !== 1) return;
    this.waiting[peer] = 0;
    if (--pending.remaining > 0) return;
    this.pending = undefined;
    pending.resolve(this.take(pending.peers));
  }

  private take(peers: readonly number[]): ChannelMessage[] {
    this.taken += peers.length;
    return peers.map((i) => this.queues[i].shift() as ChannelMessage);
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(this.failure.error);
  }
}
