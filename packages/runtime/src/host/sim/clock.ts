import { type SchedulerAction, type SchedulerLike, Subscription } from 'rxjs';

export interface ScheduledEvent {
  cancel(): void;
}

/**
 * Something that runs at a virtual time, and its own cancel handle. Hosts subclass it for what happens per
 * message and per device op, so that one object is the event, its state and its cancel handle: no closure
 * and no wrapper per event.
 */
export abstract class ClockEvent implements ScheduledEvent {
  time = 0;
  seq = 0;
  cancelled = false;

  /** What happens at `time`; the clock calls it once, unless the event was cancelled first. */
  abstract fire(): void;

  cancel(): void {
    this.cancelled = true;
  }
}

/** An event that calls a function (timers, resumes: the rarer events). */
class CallbackEvent extends ClockEvent {
  constructor(private readonly run: () => void) {
    super();
  }

  fire(): void {
    this.run();
  }
}

const RESOLVED = Promise.resolve();

/** Events run between two macrotask turns of the pump (see `VirtualClock.step`). */
const YIELD_EVERY = 1024;

function before(a: ClockEvent, b: ClockEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/**
 * Virtual time for one thread of actors. Events run in (time, insertion) order; before each event every
 * promise continuation the previous one started has run (see `step`), so async actor code sees
 * the same order on every run. Nothing here reads the wall clock.
 */
export class VirtualClock {
  time = 0;
  readonly scheduler: SchedulerLike;
  private readonly heap: ClockEvent[] = [];
  private seq = 0;
  private pumping = false;
  private sinceTurn = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  eventsRun = 0;

  constructor(private readonly onError: (error: unknown) => void) {
    this.scheduler = {
      now: () => this.time,
      schedule: <T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription =>
        new VirtualAction<T>(this, work).schedule(state, delay),
    };
  }

  /** Runs `run` at virtual time `time` (never earlier than now). */
  at(time: number, run: () => void): ScheduledEvent {
    return this.post(time, new CallbackEvent(run));
  }

  /** Fires `event` at virtual time `time` (never earlier than now); ties run in the order they were posted. */
  post<E extends ClockEvent>(time: number, event: E): E {
    if (Number.isNaN(time)) throw new RangeError('sim clock: event time is NaN');
    event.time = Math.max(time, this.time);
    event.seq = this.seq++;
    if (this.stopped) return event;
    this.push(event);
    this.kick();
    return event;
  }

  after(delayMs: number, run: () => void): ScheduledEvent {
    return this.at(this.time + Math.max(0, delayMs), run);
  }

  /** Resolves once no event is left and every continuation has run. */
  idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      this.kick();
    });
  }

  /** Drops every pending event; nothing runs after this. */
  stop(): void {
    this.stopped = true;
    this.heap.length = 0;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private kick(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    setImmediate(this.step);
  }

  /**
   * Runs the next event, then comes back once every promise continuation it started has run: a
   * `process.nextTick` queued from a microtask runs only after the microtask queue has drained, and costs a
   * fraction of a macrotask turn. Every YIELD_EVERY events the pump takes a real macrotask turn instead, so
   * timers, I/O and Node's unhandled-rejection check still run during a long simulation (at points fixed by
   * the event count, so runs stay identical).
   */
  private readonly step = (): void => {
    for (;;) {
      if (this.stopped) return this.finish();
      const event = this.pop();
      if (!event) return this.finish();
      // A cancelled event has no effect: nothing to wait for.
      if (event.cancelled) continue;
      this.time = event.time;
      this.eventsRun++;
      try {
        event.fire();
      } catch (error) {
        this.onError(error);
      }
      if (++this.sinceTurn >= YIELD_EVERY) {
        this.sinceTurn = 0;
        setImmediate(this.step);
      } else {
        // A plain promise reaction: Node's queueMicrotask wraps each callback in an async resource.
        void RESOLVED.then(this.afterContinuations);
      }
      return;
    }
  };

  private readonly afterContinuations = (): void => {
    process.nextTick(this.step);
  };

  private finish(): void {
    this.pumping = false;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private push(event: ClockEvent): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = event;
  }

  private pop(): ClockEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right], heap[left]) ? right : left;
      if (!before(heap[child], last)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

/** An RxJS scheduler action on the virtual clock: what `delay(ms, ctx.scheduler)` and friends run on. */
class VirtualAction<T> extends Subscription implements SchedulerAction<T> {
  private pending: ScheduledEvent | undefined;

  constructor(
    private readonly clock: VirtualClock,
    private readonly work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super(() => this.pending?.cancel());
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.pending?.cancel();
    this.pending = this.clock.after(delay, () => {
      this.pending = undefined;
      if (!this.closed) this.work.call(this, state);
    });
    return this;
  }
}
