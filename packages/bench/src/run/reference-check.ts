// The correctness half of every comparison: each request's prompt through the reference forward (one
// thread), and the engines' first tokens compared with it request by request.
import { createEngine } from '@asap/actors';
import type { RequestRecord } from '../metrics/request-log.ts';
import type { ReferenceCheck } from '../report/comparison.ts';
import { type WorkloadRequest, promptIds } from '../workload/request.ts';

/** First tokens of the reference forward, by request id. */
export async function referenceFirstTokens(model: string, requests: readonly WorkloadRequest[], vocabSize: number, seed: number, onDone?: () => void): Promise<Map<number, number>> {
  const engine = await createEngine({ model, engine: 'reference', backend: 'wasm', spans: false });
  try {
    const tokens = new Map<number, number>();
    for (const r of requests) {
      tokens.set(r.id, (await engine.prefill({ tokens: promptIds(r, vocabSize, seed) })).firstToken);
      onDone?.();
    }
    return tokens;
  } finally {
    await engine.close();
  }
}

export function checkAgainstReference(reference: ReadonlyMap<number, number>, runs: ReadonlyArray<{ readonly name: string; readonly records: readonly RequestRecord[] }>): ReferenceCheck {
  const mismatches: Record<string, number[]> = {};
  for (const run of runs) {
    const seen = new Set(run.records.map((r) => r.id));
    mismatches[run.name] = [
      ...run.records.filter((r) => reference.get(r.id) !== r.firstToken).map((r) => r.id),
      ...[...reference.keys()].filter((id) => !seen.has(id)),
    ];
  }
  return { requests: reference.size, mismatches };
}
