// The SLO's yardstick: TTFT of single requests on an idle sync engine of the same size, at a few lengths.
import { createEngine } from '@asap/actors';
import type { UnloadedTtft } from '../metrics/slo.ts';
import { promptIds } from '../workload/request.ts';
import type { SimSettings } from './cluster.ts';
import { type EngineSetup, SYNC, engineOptions } from './engines.ts';

/** Lengths to measure for a workload whose longest prompt is `maxLength`: a few points up to it. */
export function unloadedLengths(maxLength: number): number[] {
  const points = [16, 128, 512, 2048, 8192].filter((n) => n < maxLength);
  return [...points, maxLength];
}

/** Samples per length: the smallest is kept (a busy machine only ever adds time). */
const SAMPLES = 2;

/** The sync engine at its default configuration, `ranks` ranks on `host`: each length alone, after a warm-up. */
export async function measureUnloaded(
  model: string,
  host: EngineSetup['host'],
  ranks: number,
  lengths: readonly number[],
  vocabSize: number,
  sim?: SimSettings,
): Promise<UnloadedTtft> {
  const setup: EngineSetup = { engine: 'sync', host, ranks, knobs: SYNC.defaults, ...sim };
  const engine = await createEngine(engineOptions(setup, model, false));
  try {
    await engine.prefill({ tokens: promptIds({ id: -2, arrivalMs: 0, promptTokens: 64 }, vocabSize, 0) });
    const ttftMs: number[] = [];
    for (const n of lengths) {
      const tokens = promptIds({ id: -1, arrivalMs: 0, promptTokens: n }, vocabSize, 0);
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < SAMPLES; i++) best = Math.min(best, (await engine.prefill({ tokens })).ttftMs);
      ttftMs.push(best);
    }
    return { lengths: [...lengths], ttftMs };
  } finally {
    await engine.close();
  }
}
