// One sweep point: an engine configuration over a workload spec at a rate, summarized. Plain data in and
// out, so a point runs the same in this thread or in a pool worker.
import type { RankSpan } from '@asap/actors';
import type { RequestRecord } from '../metrics/request-log.ts';
import { type UnloadedTtft, unloadedTtftAt } from '../metrics/slo.ts';
import { type RunSummary, summarize } from '../metrics/summary.ts';
import { type WorkloadSpec, buildWorkload } from '../workload/spec.ts';
import type { EngineSetup } from './engines.ts';
import { runEngine } from './run-engine.ts';

export interface PointTask {
  readonly setup: EngineSetup;
  readonly model: string;
  readonly vocabSize: number;
  readonly workload: WorkloadSpec;
  readonly curve: UnloadedTtft;
  /** Keep this many ms of spans for a trace (default none). */
  readonly traceWindowMs?: number;
  /** Pass each request's SLO (this × unloaded TTFT) to the engine as its deadline. */
  readonly deadlineScale?: number;
}

export interface PointResult {
  readonly summary: RunSummary;
  readonly records: RequestRecord[];
  readonly spans: RankSpan[];
}

export async function runPoint(task: PointTask, onDone?: (record: RequestRecord) => void): Promise<PointResult> {
  const requests = await buildWorkload(task.workload);
  const run = await runEngine(task.setup, task.model, requests, {
    vocabSize: task.vocabSize,
    seed: task.workload.seed,
    traceWindowMs: task.traceWindowMs,
    sloMs: task.deadlineScale === undefined ? undefined : (r) => (task.deadlineScale as number) * unloadedTtftAt(task.curve, r.promptTokens),
    onDone,
  });
  return { summary: summarize(task.setup, run.records, run.elapsedMs, run.usage, task.curve), records: run.records, spans: run.spans };
}
