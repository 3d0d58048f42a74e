// What a rank reports through `host.stats(id).custom`: its time split, its work, and the routing counts
// that expert placement can be planned from.
import type { ActorContext } from '@asap/runtime';
import type { ModelConfig } from '../model/config/model-config.ts';
import type { MoeDispatch } from '../model/forward/attention-half.ts';
import type { RequestQueue } from './request-queue.ts';
import type { Timeline, TimelineTotals } from './timeline.ts';

export interface RankStats extends TimelineTotals {
  /** ms since the host started: when the rank was ready, and when these figures were taken. */
  readonly startMs: number;
  readonly atMs: number;
  readonly steps: number;
  /** Prompt tokens whose attention this rank ran. */
  readonly tokens: number;
  readonly queuedTokens: number;
  readonly kvBytes: number;
  /** Rows per expert call, each call one expert's batch. */
  readonly expertCalls: number;
  readonly expertRows: number;
  /** Rows routed per layer and expert by the requests this rank held (empty arrays for dense layers). */
  readonly routingCounts: number[][];
}

export class RoutingCounter {
  readonly counts: number[][];

  constructor(config: ModelConfig) {
    this.counts = config.layerKinds.map((k) => (k === 'moe' ? new Array<number>(config.numExperts).fill(0) : []));
  }

  /** Counts a chunk's routed rows: per row from its routing, or its rows per expert when numerics are off. */
  count(dispatch: MoeDispatch): void {
    const row = this.counts[dispatch.layer];
    if (dispatch.expertCounts) dispatch.expertCounts.forEach((n, e) => (row[e] += n));
    else for (const e of dispatch.routing.experts) row[e]++;
  }
}

export interface RankWork {
  readonly steps: number;
  readonly tokens: number;
  readonly queue?: RequestQueue;
  readonly expertCalls: number;
  readonly expertRows: number;
  readonly routing?: RoutingCounter;
}

export function rankStats(ctx: ActorContext, timeline: Timeline, work: RankWork): RankStats {
  return {
    ...timeline.summary,
    startMs: timeline.startMs,
    atMs: ctx.now(),
    steps: work.steps,
    tokens: work.tokens,
    queuedTokens: work.queue?.queuedTokens ?? 0,
    kvBytes: work.queue?.kvBytes ?? 0,
    expertCalls: work.expertCalls,
    expertRows: work.expertRows,
    routingCounts: work.routing?.counts ?? [],
  };
}
