import type { Device, DeviceOp } from '../../actor/context.ts';
import type { ActorId } from '../../actor/ids.ts';
import type { VirtualClock } from './clock.ts';
import { Fifo } from '../../collections/fifo.ts';

/** How long an op takes on an actor's device, ms of virtual time. */
export type DeviceCost = (op: DeviceOp, actor: ActorId) => number;

export interface RooflineProfile {
  /** Peak compute, GFLOP/s. */
  readonly gflops: number;
  /** Memory bandwidth, GB/s. */
  readonly gbps: number;
  /** Fixed cost per op (launch, dispatch), ms. Default 0. */
  readonly overheadMs?: number;
}

/** An op costs the larger of its compute time and its memory time (a roofline), plus a fixed overhead. */
export function rooflineCost(profile: RooflineProfile): DeviceCost {
  const { gflops, gbps, overheadMs = 0 } = profile;
  if (!(gflops > 0) || !(gbps > 0) || !(overheadMs >= 0)) {
    throw new RangeError(`rooflineCost: needs gflops > 0, gbps > 0, overheadMs >= 0; got ${JSON.stringify(profile)}`);
  }
  return (op) => overheadMs + Math.max((op.flops ?? 0) / (gflops * 1e6), (op.bytes ?? 0) / (gbps * 1e6));
}

/** One core of this machine with 128-bit SIMD kernels (see DESIGN.md platform facts). */
export const DEFAULT_DEVICE_COST: DeviceCost = rooflineCost({ gflops: 30, gbps: 30 });

/**
 * The sim host's device: one op at a time, each costing what the cost function says. The kernel runs when
 * the op is submitted (its inputs are read then, as under threads); its result is handed back when the op ends.
 */
export class SimDevice implements Device {
  ops = 0;
  busyMs = 0;
  private freeAt = 0;
  /** Rejects each op not yet ended, for `fail`; ops end in the order they were submitted (one at a time). */
  private readonly pending = new Fifo<(error: Error) => void>();
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
  ) {}

  run<T>(op: DeviceOp, compute: () => T): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (typeof op?.name !== 'string') return Promise.reject(new TypeError('device.run: op needs a name'));
    const ms = this.cost(op, this.actor);
    if (!Number.isFinite(ms) || ms < 0) {
      return Promise.reject(new RangeError(`device cost of op "${op.name}" on actor "${this.actor}" must be a finite ms >= 0, got ${ms}`));
    }
    const start = Math.max(this.clock.time, this.freeAt);
    const end = start + ms;
    this.freeAt = end;
    this.ops++;
    this.busyMs += ms;
    if (this.logging()) this.record('device', { op: op.name, start, end });
    let outcome: { value: T } | { error: unknown };
    try {
      outcome = { value: compute() };
    } catch (error) {
      outcome = { error };
    }
    return new Promise<T>((resolve, reject) => {
      this.pending.put(reject);
      this.clock.at(end, () => {
        // Empty only if `fail` rejected this op already (its settling below is then a no-op).
        if (this.pending.size > 0) this.pending.take();
        if ('value' in outcome) resolve(outcome.value);
        else reject(outcome.error);
      });
    });
  }

  idle(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.freeAt <= this.clock.time) return Promise.resolve();
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
    while (this.pending.size > 0) this.pending.take()(error);
    for (const reject of this.idleWaiters) reject(error);
    this.idleWaiters.clear();
  }
}
