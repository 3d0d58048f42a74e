// Engines for the calibration's end-to-end fits: started side by side, every kernel size touched once (the
// fidelity warm-up), used, and closed whatever happens.
import { type Engine, createEngine } from '@asap/actors';
import { FIDELITY_WARMUP } from '../fidelity/configs.ts';
import { type EngineSetup, engineOptions } from '../run/engines.ts';
import { promptIds } from '../workload/request.ts';

/** A prompt of `n` tokens, the same for every engine and call. */
export type Prompt = (n: number) => Int32Array;

export async function withWarmEngines<T>(setups: readonly EngineSetup[], model: string, vocabSize: number, use: (engines: readonly Engine[], prompt: Prompt) => Promise<T>): Promise<T> {
  const engines: Engine[] = [];
  try {
    for (const setup of setups) engines.push(await createEngine(engineOptions(setup, model, false)));
    const prompt: Prompt = (n) => promptIds({ id: -1, arrivalMs: 0, promptTokens: n }, vocabSize, 11);
    for (const engine of engines) for (const n of FIDELITY_WARMUP) await engine.prefill({ tokens: prompt(n) });
    return await use(engines, prompt);
  } finally {
    await Promise.all(engines.map((e) => e.close()));
  }
}
