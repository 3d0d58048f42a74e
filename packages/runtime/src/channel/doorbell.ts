// How one end waits for the other without blocking its event loop. Waking a thread parked in Atomics.wait
// or waitAsync costs tens of µs on these VMs (and, now and then, milliseconds), more than the whole round
// trip we want, so a waiter first polls the ring for a short, bounded window (yielding to the event loop
// between short spins), and only then parks in Atomics.waitAsync with its "sleeping" flag set, so that the
// peer knows to ring the bell (the peer never pays for a notify nobody waits for).
//
// Large records take the peer a while to copy. The peer announces one in its BUSY word (and rings early,
// so that a sleeping waiter wakes while the copy runs); the waiter then keeps polling for as long as that
// copy may take, instead of falling asleep half-way and paying the wake-up.
import { yieldTurn } from '../memory/yield-turn.ts';

// Node 20 has Atomics.waitAsync; the ES2023 lib the project compiles against does not declare it.
interface WaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}
const atomics = Atomics as unknown as WaitAsync;

export interface RingEndOptions {
  /** How long a waiting end polls the ring before it parks in Atomics.waitAsync (µs). Default 100. */
  readonly pollUs?: number;
  /**
   * Whether a parked end keeps its thread alive, as an open port would (default true). An owner that decides
   * itself when the thread may exit (the threads host's driver) says false.
   */
  readonly keepAlive?: boolean;
}

export const DEFAULT_POLL_US = 100;
/** Longest stretch a waiter keeps its event loop busy spinning. */
const SPIN_SLICE_MS = 0.01;
/** Records from this size on are announced in the BUSY word. */
export const LARGE_RECORD_BYTES = 64 * 1024;
/** A slow copy rate (bytes per ms, 1 GB/s): how long a waiter keeps polling while the peer copies. */
const SLOW_COPY_BYTES_PER_MS = 1e6;

export class Doorbell {
  private readonly pollMs: number;
  // A pending Atomics.waitAsync does not keep a thread alive; an end that is waiting must, like an open port.
  private keepAlive: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly control: Int32Array,
    private readonly bell: number,
    private readonly sleeping: number,
    /** The peer's BUSY word. */
    private readonly peerBusy: number,
    pollUs: number,
    private readonly holdsThread = true,
  ) {
    if (!(pollUs >= 0)) throw new RangeError(`channel: pollUs must be ≥ 0, got ${pollUs}`);
    this.pollMs = pollUs / 1000;
  }

  /** Resolves once `ready()` may hold: soon while polling, else when the peer rings (or on `interrupt`). */
  async wait(ready: () => boolean): Promise<void> {
    if (ready()) return;
    const { control, bell, sleeping, peerBusy } = this;
    let now = performance.now();
    let deadline = now + this.pollMs;
    while (now < deadline) {
      // Let the event loop run (timers, I/O, our own continuations), then spin a short slice: a reply that
      // lands a few µs later is seen at once instead of an event-loop turn later.
      await yieldTurn();
      const sliceEnd = Math.min(performance.now() + SPIN_SLICE_MS, deadline);
      do {
        if (ready()) return;
        now = performance.now();
      } while (now < sliceEnd);
      const busy = Atomics.load(control, peerBusy);
      if (busy > 0) deadline = Math.max(deadline, now + busy / SLOW_COPY_BYTES_PER_MS);
    }
    Atomics.store(control, sleeping, 1);
    try {
      // Read the bell before the last check: a peer that publishes after the check sees `sleeping` and bumps it.
      const seen = Atomics.load(control, bell);
      if (ready()) return;
      const result = atomics.waitAsync(control, bell, seen);
      if (!result.async) return;
      if (this.holdsThread) {
        this.keepAlive ??= setInterval(() => {}, 2 ** 30);
        this.keepAlive.ref();
      }
      await result.value;
    } finally {
      Atomics.store(control, sleeping, 0);
      this.keepAlive?.unref();
    }
  }

  /** Wakes this end's own pending wait (e.g. its owner closed it). */
  interrupt(): void {
    Atomics.add(this.control, this.bell, 1);
    Atomics.notify(this.control, this.bell);
  }

  dispose(): void {
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }
}

/** The peer's side: after publishing, ring only if this end sleeps. */
export function wakeIfSleeping(control: Int32Array, bell: number, sleeping: number): void {
  if (Atomics.load(control, sleeping) !== 0) {
    Atomics.add(control, bell, 1);
    Atomics.notify(control, bell);
  }
}
