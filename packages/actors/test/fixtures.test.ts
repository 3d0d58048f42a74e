// The reference forward against PyTorch/transformers logits for every golden fixture, on every backend this
// machine has (js, wasm, native where it was built, cuda where a GPU is present; elsewhere cuda is SKIPPED).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadModel, referencePrefill, residentModel } from '@asap/actors';
import { availableBackends, type Backend, createBackend, cudaUnavailableReason } from '@asap/runtime';
import { FIXTURE_NAMES, FIXTURES_DIR, fixtureCases } from './support/checkpoints.ts';

const TOLERANCE = 1e-4;
const backendNames = availableBackends();
const cudaMissing = cudaUnavailableReason();

if (cudaMissing !== undefined) {
  test('golden fixtures on the cuda backend', { skip: `no CUDA device: ${cudaMissing}` }, () => {});
}

for (const backendName of backendNames) {
  describe(`golden fixtures on the ${backendName} backend`, () => {
    let backend: Backend | undefined;
    const getBackend = async () => (backend ??= await createBackend(backendName));
    after(() => backend?.dispose());

    for (const name of FIXTURE_NAMES) {
      test(`${name}: logits within ${TOLERANCE} of PyTorch, same first token`, async (t) => {
        const b = await getBackend();
        const model = residentModel((await loadModel(join(FIXTURES_DIR, name))).model, b);
        let maxAbs = 0;
        let maxScale = 0;
        for (const c of await fixtureCases(name)) {
          const result = referencePrefill(b, model, c.tokens);
          assert.equal(result.logits.length, c.lastLogits.length);
          for (let i = 0; i < c.lastLogits.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(result.logits[i] - c.lastLogits[i]));
            maxScale = Math.max(maxScale, Math.abs(c.lastLogits[i]));
          }
          assert.equal(result.firstToken, c.firstToken, `first token of the ${c.tokens.length}-token case`);
          assert.equal(result.kv.length, c.tokens.length);
        }
        t.diagnostic(`max |Δlogit| ${maxAbs.toExponential(2)}, relative to max |logit| ${(maxAbs / maxScale).toExponential(2)}`);
        assert.ok(maxAbs <= TOLERANCE, `max |Δlogit| ${maxAbs} exceeds ${TOLERANCE}`);
      });
    }
  });
}
