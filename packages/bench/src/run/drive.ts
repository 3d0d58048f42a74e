// Plays a workload into an engine: each request is sent at its arrival time on the engine's own clock
// (virtual under the sim host, so a sim run is deterministic), and its TTFT is recorded when it returns.
import type { Engine } from '@asap/actors';
import type { Subscription } from 'rxjs';
import type { RequestRecord } from '../metrics/request-log.ts';
import { type WorkloadRequest, promptIds } from '../workload/request.ts';

export interface DriveOptions {
  readonly vocabSize: number;
  /** Seeds the prompts' token ids. */
  readonly seed: number;
  /** Per request, the TTFT objective passed to the engine (ms), if any. */
  readonly sloMs?: (request: WorkloadRequest) => number | undefined;
  readonly onDone?: (record: RequestRecord) => void;
}

export interface DriveResult {
  /** In request id order. */
  readonly records: RequestRecord[];
  /** From the first arrival's slot (the run's start) to the last first token, on the engine's clock. */
  readonly elapsedMs: number;
  readonly startMs: number;
}

export async function drive(engine: Engine, requests: readonly WorkloadRequest[], options: DriveOptions): Promise<DriveResult> {
  const prompts = requests.map((r) => promptIds(r, options.vocabSize, options.seed));
  const startMs = engine.now();
  let lastMs = startMs;
  const timers: Subscription[] = [];
  const results = requests.map(
    (request, i) =>
      new Promise<RequestRecord>((resolve, reject) => {
        const timer = engine.scheduler.schedule(() => {
          const arrivalMs = engine.now() - startMs;
          engine.prefill({ tokens: prompts[i], ttftSloMs: options.sloMs?.(request) }).then(
            (outcome) => {
              lastMs = Math.max(lastMs, engine.now());
              const record: RequestRecord = { id: request.id, promptTokens: request.promptTokens, arrivalMs, ttftMs: outcome.ttftMs, firstToken: outcome.firstToken, rank: outcome.kv.rank };
              options.onDone?.(record);
              resolve(record);
            },
            (error: unknown) => reject(new Error(`request ${request.id} (${request.promptTokens} tokens) failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error })),
          );
        }, request.arrivalMs);
        timers.push(timer);
      }),
  );
  // A failed request ends the run: the arrivals not yet sent are not sent.
  const records = await Promise.all(results).catch((error: unknown) => {
    for (const t of timers) t.unsubscribe();
    throw error;
  });
  return { records, elapsedMs: lastMs - startMs, startMs };
}
