// A rank's time, split three ways — computing (inside kernels), waiting at a barrier or for expert rows, idle
// with no work — logged as spans for the trace and summed for stats.
import type { ActorContext, DeviceOp } from '@asap/runtime';

export type SpanKind = 'compute' | 'barrier-wait' | 'queue-wait' | 'idle';

/** One span as ranks log it (`ctx.log('span', …)`); engines turn these into RankSpan events. */
export interface SpanDetail {
  readonly kind: SpanKind;
  readonly start: number;
  readonly end: number;
  /** The op or what was waited for. */
  readonly name: string;
  readonly requests?: readonly number[];
  /** Rows in the op (expert batches). */
  readonly rows?: number;
}

export interface TimelineTotals {
  /**
   * Time the rank's thread was running code (its event loop's active time under threads); under sim, where
   * only device ops take time, the compute time.
   */
  readonly activeMs: number;
  readonly computeMs: number;
  readonly barrierWaitMs: number;
  readonly queueWaitMs: number;
  readonly idleMs: number;
}

/**
 * A fault injected on purpose (tests, failure drills): in its `afterOps`-th device op, rank `rank` throws
 * ('crash', the default) or never returns ('stall': its thread spins, as a kernel stuck in a loop would).
 */
export interface InjectedFault {
  readonly rank: string;
  readonly afterOps: number;
  readonly kind?: 'crash' | 'stall';
}

export class Timeline {
  private readonly totals: Record<SpanKind, number> = { compute: 0, 'barrier-wait': 0, 'queue-wait': 0, idle: 0 };
  readonly startMs: number;
  private readonly loopAtStart = performance.eventLoopUtilization();
  private ops = 0;
  /** When the last device op recorded ended. */
  private deviceFreeAt = -Infinity;
  private readonly faultAt: number;
  private readonly fault: InjectedFault | undefined;

  constructor(
    private readonly ctx: ActorContext,
    private readonly logSpans: boolean,
    fault?: InjectedFault,
  ) {
    this.startMs = ctx.now();
    this.fault = fault?.rank === ctx.id ? fault : undefined;
    this.faultAt = this.fault?.afterOps ?? Infinity;
  }

  private injectFault(op: string): void {
    if (this.fault?.kind === 'stall') for (;;);
    throw new Error(`injected fault: crash in device op ${this.ops} (${op})`);
  }

  /**
   * Runs `compute` as one device op and records its span: from when the device started it, not when it was
   * submitted — the device runs one op at a time in order, so an op submitted while another ran (a second
   * micro-batch's, an expert batch beside attention) started when that one ended. Counting from submission
   * drew overlapping compute spans in the trace and summed the queueing into the timeline's compute total.
   */
  async compute<T>(op: DeviceOp, compute: () => T, requests?: readonly number[], rows?: number): Promise<T> {
    const submitted = this.ctx.now();
    if (++this.ops >= this.faultAt) this.injectFault(op.name);
    const result = await this.ctx.device.run(op, compute);
    this.record('compute', Math.max(submitted, this.deviceFreeAt), op.name, requests, rows);
    this.deviceFreeAt = this.ctx.now();
    return result;
  }

  /** Awaits `work`, recording the time as a span of `kind`. */
  async wait<T>(kind: Exclude<SpanKind, 'compute'>, name: string, work: Promise<T>): Promise<T> {
    const start = this.ctx.now();
    try {
      return await work;
    } finally {
      this.record(kind, start, name);
    }
  }

  get summary(): TimelineTotals {
    const t = this.totals;
    const activeMs = this.ctx.host === 'threads' ? performance.eventLoopUtilization(this.loopAtStart).active : t.compute;
    return { activeMs, computeMs: t.compute, barrierWaitMs: t['barrier-wait'], queueWaitMs: t['queue-wait'], idleMs: t.idle };
  }

  /** Adds a span ending now to the totals; the span itself is built only when spans are logged (every device op and wait has one). */
  private record(kind: SpanKind, start: number, name: string, requests?: readonly number[], rows?: number): void {
    const end = this.ctx.now();
    const ms = end - start;
    this.totals[kind] += ms;
    if (this.logSpans && ms > 0) {
      // A device op's span names its requests and rows (undefined ones included); a wait's has neither.
      const span: SpanDetail = kind === 'compute' ? { kind, start, end, name, requests, rows } : { kind, start, end, name };
      this.ctx.log('span', span);
    }
  }
}
