// Rank timelines as a Chrome trace-event file (open it in Perfetto or chrome://tracing): one track per rank,
// compute / barrier-wait / queue-wait / idle spans, the request ids of each span in its args.
import type { RankSpan } from '@asap/actors';

interface TraceEvent {
  readonly name: string;
  readonly cat: string;
  readonly ph: 'X' | 'M';
  readonly pid: number;
  readonly tid: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly args?: Record<string, unknown>;
}

/** The trace-event JSON of `spans` (times in ms since the host started). */
export function traceEvents(spans: readonly RankSpan[], title = 'asap'): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms' } {
  const ranks = [...new Set(spans.map((s) => s.rank))];
  const tid = new Map(ranks.map((r, i) => [r, i + 1]));
  const events: TraceEvent[] = [
    { name: 'process_name', cat: '__metadata', ph: 'M', pid: 1, tid: 0, args: { name: title } },
    ...ranks.map((r): TraceEvent => ({ name: 'thread_name', cat: '__metadata', ph: 'M', pid: 1, tid: tid.get(r) as number, args: { name: r } })),
  ];
  for (const s of spans) {
    const args: Record<string, unknown> = {};
    if (s.requests && s.requests.length > 0) args.requests = s.requests;
    if (s.rows !== undefined) args.rows = s.rows;
    events.push({
      name: s.kind === 'compute' ? s.name : `${s.kind}: ${s.name}`,
      cat: s.kind,
      ph: 'X',
      pid: 1,
      tid: tid.get(s.rank) as number,
      ts: Math.round(s.start * 1000),
      dur: Math.max(0, Math.round((s.end - s.start) * 1000)),
      args,
    });
  }
  return { traceEvents: events, displayTimeUnit: 'ms' };
}
