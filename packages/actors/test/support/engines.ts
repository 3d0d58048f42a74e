// Test support for engines: deterministic mixed-length prompts and a bit-for-bit comparison with the reference.
import assert from 'node:assert/strict';
import { createEngine, type Engine, type EngineOptions, type PrefillOutcome } from '@asap/actors';
import type { BackendName } from '@asap/runtime';

/** Mixed lengths, some longer than the small budgets the tests use, so long prompts are chunked. */
export function mixedPrompts(vocab: number, lengths: readonly number[] = [5, 40, 3, 17, 64, 1, 29]): number[][] {
  return lengths.map((n, k) => Array.from({ length: n }, (_, i) => (i * 7 + k * 13 + 1) % vocab));
}

const references = new Map<string, PrefillOutcome[]>();

/** The reference engine's outcome for each prompt (with logits) on `backend`, cached per model and prompt set. */
export async function referenceOutcomes(model: string, prompts: readonly number[][], backend: BackendName): Promise<PrefillOutcome[]> {
  const key = `${model}|${backend}|${prompts.map((p) => p.length).join(',')}`;
  let cached = references.get(key);
  if (!cached) {
    const ref = await createEngine({ model, engine: 'reference', backend });
    try {
      cached = [];
      for (const tokens of prompts) cached.push(await ref.prefill({ tokens, logits: true }));
    } finally {
      await ref.close();
    }
    references.set(key, cached);
  }
  return cached;
}

/** Sends every prompt at once and checks each first token and every logit bit against the reference on the engine's backend. */
export async function assertMatchesReference(engine: Engine, model: string, prompts: readonly number[][]): Promise<void> {
  const expected = await referenceOutcomes(model, prompts, engine.backend);
  const outcomes = await Promise.all(prompts.map((tokens) => engine.prefill({ tokens, logits: true })));
  outcomes.forEach((got, i) => {
    const want = expected[i];
    assert.equal(got.firstToken, want.firstToken, `request ${i} (${prompts[i].length} tokens): first token`);
    assert.ok(got.logits, `request ${i}: logits returned`);
    for (let j = 0; j < want.logits!.length; j++) {
      if (!Object.is(got.logits![j], want.logits![j])) assert.fail(`request ${i}: logit ${j} is ${got.logits![j]}, the reference has ${want.logits![j]}`);
    }
    assert.equal(got.kv.positions, prompts[i].length);
  });
}

/** Starts an engine (on wasm unless the options say otherwise), runs `body`, always closes it. */
export async function withEngine<T>(options: EngineOptions, body: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await createEngine({ backend: 'wasm', ...options });
  try {
    return await body(engine);
  } finally {
    await engine.close();
  }
}
