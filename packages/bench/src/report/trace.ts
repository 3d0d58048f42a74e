// Chrome trace-event JSON of rank timelines (opens in Perfetto / chrome://tracing): one track per rank,
// its compute, barrier-wait, queue-wait and idle spans as complete events, request ids in args.
import { writeFile } from 'node:fs/promises';
import type { RankSpan } from '@asap/actors';

interface TraceEvent {
  readonly name: string;
  readonly cat?: string;
  readonly ph: 'X' | 'M';
  readonly pid: number;
  readonly tid: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly args?: Record<string, unknown>;
}

/** The trace document for `spans` (ms) of one engine, named `process`; ranks in first-seen order unless given. */
export function traceEvents(spans: readonly RankSpan[], process: string, ranks?: readonly string[], pid = 1): TraceEvent[] {
  const order = [...(ranks ?? [])];
  for (const s of spans) if (!order.includes(s.rank)) order.push(s.rank);
  const meta: TraceEvent[] = [
    { name: 'process_name', ph: 'M', pid, tid: 0, args: { name: process } },
    ...order.flatMap((rank, i): TraceEvent[] => [
      { name: 'thread_name', ph: 'M', pid, tid: i + 1, args: { name: rank } },
      { name: 'thread_sort_index', ph: 'M', pid, tid: i + 1, args: { sort_index: i } },
    ]),
  ];
  const events = spans.map((s): TraceEvent => {
    const args: Record<string, unknown> = {};
    if (s.requests?.length) args.requests = s.requests;
    if (s.rows !== undefined) args.rows = s.rows;
    return { name: s.kind === 'compute' ? s.name : `${s.kind}: ${s.name}`, cat: s.kind, ph: 'X', pid, tid: order.indexOf(s.rank) + 1, ts: s.start * 1000, dur: (s.end - s.start) * 1000, args };
  });
  return [...meta, ...events.sort((a, b) => (a.ts as number) - (b.ts as number) || a.tid - b.tid)];
}

export interface TraceProcess {
  readonly name: string;
  readonly spans: readonly RankSpan[];
  readonly ranks?: readonly string[];
}

/** Writes one trace file holding each engine as its own process. */
export async function writeTrace(path: string, processes: readonly TraceProcess[]): Promise<void> {
  const traceEventsAll = processes.flatMap((p, i) => traceEvents(p.spans, p.name, p.ranks, i + 1));
  await writeFile(path, `${JSON.stringify({ traceEvents: traceEventsAll, displayTimeUnit: 'ms' })}\n`);
}
