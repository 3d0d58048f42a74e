import type { Device, DeviceOp } from '../../actor/context.ts';
import type { ActorId } from '../../actor/ids.ts';
import { ClockEvent, type VirtualClock } from './clock.ts';
import { Fifo } from '../../collections/fifo.ts';

/**
 * How long an op takes on an actor's device, ms of virtual time; `idleMs`: how long every device of the
 * host had sat idle when the op starts (0 when one was busy, this one included).
 */
export type DeviceCost = (op: DeviceOp, actor: ActorId, idleMs?: number) => number;

/**
 * When the last op scheduled on any of a host's devices ends: how long the whole machine sat idle before an
 * op (see `WakeCost`: on one machine a pause is felt when all its cores rest, not while one waits for another).
 */
export class DevicesBusy {
  private until = Number.NaN;

  /** ms every device had been idle at `now` (0 before the first op, or while one is busy). */
  idleAt(now: number): number {
    return this.until < now ? now - this.until : 0;
  }

  busyUntil(end: number): void {
    if (!(this.until >= end)) this.until = end;
  }
}

export interface RooflineProfile {
  /** Peak compute, GFLOP/s. */
  readonly gflops: number;
  /** Memory bandwidth, GB/s. */
  readonly gbps: number;
  /** Fixed cost per op (launch, dispatch), ms. Default 0. */
  readonly overheadMs?: number;
}

/** What one kind of op achieves on a device: the rates a roofline charges it at. */
export interface OpRates {
  /** Achieved FLOP per ms and bytes per ms. */
  readonly flopsPerMs: number;
  /** Achieved context FLOP per ms (`DeviceOp.contextFlops`); undefined: at flopsPerMs, as any other FLOP. */
  readonly contextFlopsPerMs?: number;
  readonly bytesPerMs: number;
  readonly overheadMs: number;
}

/**
 * The roofline every sim cost and the calibration's fit share: the fixed overhead plus the larger of the
 * compute time (context FLOPs at their own rate where one is given) and the memory time, ms.
 */
export function rooflineMs(op: Pick<DeviceOp, 'flops' | 'bytes' | 'contextFlops'>, r: OpRates): number {
  const flops = op.flops ?? 0;
  const context = r.contextFlopsPerMs === undefined ? 0 : Math.min(flops, op.contextFlops ?? 0);
  const computeMs = context > 0 ? (flops - context) / r.flopsPerMs + context / (r.contextFlopsPerMs as number) : flops / r.flopsPerMs;
  return r.overheadMs + Math.max(computeMs, (op.bytes ?? 0) / r.bytesPerMs);
}

/** An op costs the larger of its compute time and its memory time (a roofline), plus a fixed overhead. */
export function rooflineCost(profile: RooflineProfile): DeviceCost {
  const { gflops, gbps, overheadMs = 0 } = profile;
  if (!(gflops > 0) || !(gbps > 0) || !(overheadMs >= 0)) {
    throw new RangeError(`rooflineCost: needs gflops > 0, gbps > 0, overheadMs >= 0; got ${JSON.stringify(profile)}`);
  }
  const rates: OpRates = { flopsPerMs: gflops * 1e6, bytesPerMs: gbps * 1e6, overheadMs };
  return (op) => rooflineMs(op, rates);
}

/** One core of this machine with 128-bit SIMD kernels (see DESIGN.md platform facts). */
export const DEFAULT_DEVICE_COST: DeviceCost = rooflineCost({ gflops: 30, gbps: 30 });

/** An op's end: settles its promise with what the kernel gave when the op was submitted. */
class OpEnd extends ClockEvent {
  resolve: (value: unknown) => void = NOTHING;
  reject: (error: unknown) => void = NOTHING;

  constructor(
    private readonly pending: Fifo<OpEnd>,
    private readonly failed: boolean,
    private readonly outcome: unknown,
  ) {
    super();
  }

  fire(): void {
    // Empty only if `fail` rejected this op already (its settling below is then a no-op).
    if (this.pending.size > 0) this.pending.take();
    if (this.failed) this.reject(this.outcome);
    else this.resolve(this.outcome);
  }
}

const NOTHING = (): void => {};
/** What `idle` gives a device with nothing running: one resolved promise, awaited in as many steps as a new one. */
const IDLE = Promise.resolve();

/**
 * The sim host's device: one op at a time, each costing what the cost function says. The kernel runs when
 * the op is submitted (its inputs are read then, as under threads); its result is handed back when the op ends.
 */
export class SimDevice implements Device {
  ops = 0;
  busyMs = 0;
  private freeAt = 0;
  /** Each op not yet ended, for `fail`; ops end in the order they were submitted (one at a time). */
  private readonly pending = new Fifo<OpEnd>();
  /** The op being submitted, whose promise's settle functions `capture` stores: one executor for every op. */
  private submitting: OpEnd | undefined;
  private readonly capture = (resolve: (value: unknown) => void, reject: (error: unknown) => void): void => {
    const op = this.submitting as OpEnd;
    op.resolve = resolve;
    op.reject = reject;
  };
  private failure: Error | undefined;
  /** Rejects each `idle` not yet resolved, for `fail`. */
  private readonly idleWaiters = new Set<(error: Error) => void>();

  constructor(
    private readonly actor: ActorId,
    private readonly clock: VirtualClock,
    private readonly cost: DeviceCost,
    private readonly record: (event: string, detail: unknown) => void,
    /** Whether the host keeps or shows events now: when not, an op's event is not built. */
    private readonly logging: () => boolean = () => true,
    /** Shared by the host's devices; a device alone has its own. */
    private readonly devicesBusy = new DevicesBusy(),
  ) {}

  run<T>(op: DeviceOp, compute: () => T): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (typeof op?.name !== 'string') return Promise.reject(new TypeError('device.run: op needs a name'));
    const now = this.clock.time;
    const ms = this.cost(op, this.actor, this.devicesBusy.idleAt(now));
    if (!Number.isFinite(ms) || ms < 0) {
      return Promise.reject(new RangeError(`device cost of op "${op.name}" on actor "${this.actor}" must be a finite ms >= 0, got ${ms}`));
    }
    const start = Math.max(now, this.freeAt);
    const end = start + ms;
    this.freeAt = end;
    this.devicesBusy.busyUntil(end);
    this.ops++;
    this.busyMs += ms;
    if (this.logging()) this.record('device', { op: op.name, start, end });
    let failed = false;
    let outcome: unknown;
    try {
      outcome = compute();
    } catch (error) {
      failed = true;
      outcome = error;
    }
    const done = new OpEnd(this.pending, failed, outcome);
    this.submitting = done;
    const result = new Promise<unknown>(this.capture) as Promise<T>;
    this.submitting = undefined;
    this.pending.put(done);
    this.clock.post(end, done);
    return result;
  }

  idle(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.freeAt <= this.clock.time) return IDLE;
    return new Promise<void>((resolve, reject) => {
      this.idleWaiters.add(reject);
      this.clock.at(this.freeAt, () => {
        this.idleWaiters.delete(reject);
        resolve();
      });
    });
  }

  /** The host stops: ops not yet ended, and later ones, reject with `error` (their end never comes). */
  fail(error: Error): void {
    this.failure ??= error;
    while (this.pending.size > 0) this.pending.take().reject(error);
    for (const reject of this.idleWaiters) reject(error);
    this.idleWaiters.clear();
  }
}
