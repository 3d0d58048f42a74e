// One engine over one workload: start it, warm it up (first-call compilation is not part of any figure),
// snapshot its stats, play the workload, snapshot again, close. Spans of the run's first window are kept
// for the trace when asked.
import { type RankSpan, createEngine } from '@asap/actors';
import type { RequestRecord } from '../metrics/request-log.ts';
import { type RankUsage, rankUsage } from '../metrics/ranks.ts';
import type { WorkloadRequest } from '../workload/request.ts';
import { drive } from './drive.ts';
import { type EngineSetup, engineOptions } from './engines.ts';

export interface EngineRun {
  readonly setup: EngineSetup;
  readonly records: RequestRecord[];
  readonly elapsedMs: number;
  readonly usage: RankUsage[];
  /** Spans with start in [0, traceWindowMs) of the run, times relative to the run's start. */
  readonly spans: RankSpan[];
  /** sim host: virtual-time events the run took (its simulation speed is this over wall time). */
  readonly simEvents?: number;
}

export interface RunEngineOptions {
  readonly vocabSize: number;
  readonly seed: number;
  /** Keep the spans of the run's first this-many ms (0: none, and ranks log no spans). */
  readonly traceWindowMs?: number;
  readonly sloMs?: (request: WorkloadRequest) => number | undefined;
  readonly onDone?: (record: RequestRecord) => void;
  /** Prompt lengths run once each, one at a time, before the figures start (default WARMUP_LENGTHS). */
  readonly warmupLengths?: readonly number[];
}

/** Prompts of these lengths run once, one at a time, before the figures start. */
const WARMUP_LENGTHS = [8, 64];

export async function runEngine(setup: EngineSetup, model: string, requests: readonly WorkloadRequest[], options: RunEngineOptions): Promise<EngineRun> {
  const traceWindowMs = options.traceWindowMs ?? 0;
  const engine = await createEngine(engineOptions(setup, model, traceWindowMs > 0, options.seed));
  try {
    for (const n of options.warmupLengths ?? WARMUP_LENGTHS) await engine.prefill({ tokens: Array.from({ length: n }, (_, i) => i % options.vocabSize) });
    const spans: RankSpan[] = [];
    let startMs = Number.POSITIVE_INFINITY;
    const subscription = engine.events$.subscribe((span) => {
      if (span.start >= startMs && span.start < startMs + traceWindowMs) spans.push({ ...span, start: span.start - startMs, end: span.end - startMs });
    });
    const { ranks: before, simEvents: eventsBefore } = await engine.stats();
    startMs = engine.now();
    const result = await drive(engine, requests, { vocabSize: options.vocabSize, seed: options.seed, sloMs: options.sloMs, onDone: options.onDone });
    const { ranks: after, simEvents: eventsAfter } = await engine.stats();
    subscription.unsubscribe();
    const simEvents = eventsBefore === undefined || eventsAfter === undefined ? undefined : eventsAfter - eventsBefore;
    return { setup, records: result.records, elapsedMs: result.elapsedMs, usage: rankUsage(before, after, engine.now() - startMs), spans, simEvents };
  } finally {
    await engine.close();
  }
}
