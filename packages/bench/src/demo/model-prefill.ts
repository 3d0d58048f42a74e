// The model half of the demo: the embedded default model (generated from a seed, never downloaded) prefilled
// by the reference forward on the chosen backend (the fastest by default), with the figures a user first wants to see.
import { loadModel, referencePrefill, residentModel } from '@asap/actors';
import { type BackendName, SeededRandom, createBackend } from '@asap/runtime';
import { DEFAULT_MODEL, defaultModelDir } from '../cli/default-model.ts';

/** Deterministic prompt token ids in [0, vocab). */
function demoPrompt(length: number, vocabSize: number, seed: number): number[] {
  const random = new SeededRandom(seed);
  return Array.from({ length }, () => Math.floor(random.next() * vocabSize));
}

export async function runModelPrefillDemo(backendName: BackendName, promptLengths: readonly number[], out: (line: string) => void): Promise<void> {
  let t = performance.now();
  const dir = await defaultModelDir();
  const generatedMs = performance.now() - t;
  const backend = await createBackend(backendName);
  try {
    t = performance.now();
    const loaded = await loadModel(dir);
    const model = residentModel(loaded.model, backend);
    const loadMs = performance.now() - t;
    const c = model.config;
    out(
      `default model: ${DEFAULT_MODEL.arch} preset "${DEFAULT_MODEL.preset}" seed ${DEFAULT_MODEL.seed} ` +
        `(${c.numLayers} layers, hidden ${c.hiddenSize}, ${c.numExperts} experts top-${c.topK}, vocab ${c.vocabSize}; ` +
        `${(loaded.bytesRead / 2 ** 20).toFixed(1)} MiB) at ${dir}`,
    );
    out(`  ready in ${generatedMs.toFixed(0)} ms, loaded in ${loadMs.toFixed(0)} ms; reference forward on the ${backend.name} backend`);
    referencePrefill(backend, model, demoPrompt(8, c.vocabSize, 0)); // warm-up: compile and touch every weight once
    for (const length of promptLengths) {
      const tokens = demoPrompt(length, c.vocabSize, length);
      t = performance.now();
      const result = referencePrefill(backend, model, tokens);
      const ms = performance.now() - t;
      out(
        `  prompt ${String(length).padStart(5)} tokens: TTFT ${ms.toFixed(1).padStart(7)} ms, ` +
          `${Math.round((length / ms) * 1000).toLocaleString('en-US').padStart(7)} tokens/s, first token ${result.firstToken}`,
      );
    }
  } finally {
    backend.dispose();
  }
}
