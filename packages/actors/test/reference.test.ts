// The reference forward's contracts: causality, prompt errors, KV cache, and that the layer pieces compose
// (split across partial models, in any fill order) into the same logits bit for bit.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  attentionHalf,
  combine,
  gatedFfn,
  KvCache,
  lmHeadLogits,
  loadModel,
  type MoeModel,
  referencePrefill,
  residentModel,
  rowsByExpert,
  slotOutputsFor,
} from '@asap/actors';
import { availableBackends, type Backend, createBackend } from '@asap/runtime';
import { FIXTURES_DIR } from './support/checkpoints.ts';

const PROMPT = [5, 77, 300, 12, 12, 401, 9, 250, 31, 100, 64, 7];

for (const backendName of availableBackends()) {
  describe(`reference forward (${backendName} backend)`, () => {
    let backend: Backend;
    const models = new Map<string, MoeModel>();
    before(async () => {
      backend = await createBackend(backendName);
      for (const name of ['mixtral-F32', 'qwen2_moe-F32', 'qwen3_moe-F32', 'deepseek_v3-F32']) {
        models.set(name, (await loadModel(join(FIXTURES_DIR, name))).model);
      }
    });
    after(() => backend.dispose());

    test('causality: changing a later token never changes an earlier position', () => {
      for (const [name, model] of models) {
        const a = referencePrefill(backend, model, PROMPT, { allPositions: true }).allLogits!;
        for (const changeAt of [3, PROMPT.length - 1]) {
          const changed = PROMPT.slice();
          changed[changeAt] = (changed[changeAt] + 101) % model.config.vocabSize;
          const b = referencePrefill(backend, model, changed, { allPositions: true }).allLogits!;
          assert.deepEqual(b.rows(0, changeAt).toF32(), a.rows(0, changeAt).toF32(), `${name}: positions before ${changeAt}`);
          assert.notDeepEqual(b.row(changeAt).toF32(), a.row(changeAt).toF32(), `${name}: position ${changeAt} itself`);
        }
      }
    });

    test('the last row of allPositions equals the returned logits, and firstToken is their argmax', () => {
      const model = models.get('qwen2_moe-F32')!;
      const r = referencePrefill(backend, model, PROMPT, { allPositions: true });
      assert.deepEqual(r.allLogits!.row(PROMPT.length - 1).toF32(), r.logits);
      const max = Math.max(...r.logits);
      assert.equal(r.firstToken, r.logits.indexOf(max));
    });

    test('out-of-range tokens and empty prompts are rejected with clear errors', () => {
      const model = models.get('mixtral-F32')!;
      assert.throws(() => referencePrefill(backend, model, []), /empty prompt/);
      assert.throws(() => referencePrefill(backend, model, [1, 512]), /token 512 at position 1 is out of range: the vocabulary has ids 0\.\.511/);
      assert.throws(() => referencePrefill(backend, model, [-1]), /token -1 at position 0 is out of range/);
      assert.throws(() => referencePrefill(backend, model, [1, 2.5]), /token 2\.5 at position 1/);
    });

    test('KV cache: every layer holds the prompt, and a prefix prompt has the same keys and values', () => {
      const model = models.get('qwen3_moe-F32')!;
      const c = model.config;
      const full = referencePrefill(backend, model, PROMPT).kv;
      const prefix = referencePrefill(backend, model, PROMPT.slice(0, 5)).kv;
      assert.equal(full.layers.length, c.numLayers);
      for (let l = 0; l < c.numLayers; l++) {
        assert.equal(full.layers[l].length, PROMPT.length);
        assert.deepEqual(full.layers[l].filledKeys.shape, [PROMPT.length, c.numKvHeads * c.headDim]);
        assert.deepEqual(full.layers[l].filledKeys.rows(0, 5).toF32(), prefix.layers[l].filledKeys.toF32());
        assert.deepEqual(full.layers[l].filledValues.rows(0, 5).toF32(), prefix.layers[l].filledValues.toF32());
      }
    });

    test('chunked prefill into one KV cache gives the same last logits and cache', () => {
      for (const [name, model] of models) {
        const whole = referencePrefill(backend, model, PROMPT);
        const kv = KvCache.create(model.config, PROMPT.length);
        referencePrefill(backend, model, PROMPT.slice(0, 5), { kv });
        const chunked = referencePrefill(backend, model, PROMPT.slice(5), { kv });
        assert.equal(chunked.firstToken, whole.firstToken, name);
        assert.deepEqual(chunked.logits, whole.logits, name);
        assert.deepEqual(kv.layers[1].filledKeys.toF32(), whole.kv.layers[1].filledKeys.toF32(), name);
      }
    });

    test('a chunk that fails in a later layer leaves the KV cache as it was', async () => {
      const dir = join(FIXTURES_DIR, 'mixtral-F32');
      const all = (await loadModel(dir)).model;
      const firstLayerOnly = residentModel(
        (await loadModel(dir, { experts: (layer) => (layer === 0 ? Array.from({ length: all.config.numExperts }, (_, e) => e) : []) })).model,
        backend,
      );
      const kv = KvCache.create(all.config, PROMPT.length);
      referencePrefill(backend, residentModel(all, backend), PROMPT.slice(0, 3), { kv });
      assert.throws(() => referencePrefill(backend, firstLayerOnly, PROMPT.slice(3), { kv }), /expert/);
      assert.deepEqual(kv.layers.map((l) => l.length), kv.layers.map(() => 3));
    });

    test('a KV cache in the backend\'s memory: chunked prefill equals the whole prompt, and the memory returns', () => {
      for (const [name, model] of models) {
        const arena = backend.arena;
        const before = arena?.used;
        const whole = referencePrefill(backend, model, PROMPT);
        const kv = KvCache.create(model.config, PROMPT.length, backend);
        if (arena) assert.ok(arena.owns(kv.layers[0].keys), `${name}: the cache lives in the backend's memory`);
        referencePrefill(backend, model, PROMPT.slice(0, 3), { kv });
        const chunked = referencePrefill(backend, model, PROMPT.slice(3), { kv });
        assert.deepEqual(chunked.logits, whole.logits, name);
        assert.deepEqual(kv.layers[0].filledValues.toF32(), whole.kv.layers[0].filledValues.toF32(), name);
        kv.release();
        whole.kv.release();
        kv.release();
        assert.equal(arena?.used, before, `${name}: every scratch region and cache was given back`);
        assert.throws(() => referencePrefill(backend, model, PROMPT, { kv }), /the KV cache was released/);
      }
    });

    test('a chunk that outgrows its KV cache is an error', () => {
      const model = models.get('mixtral-F32')!;
      const kv = KvCache.create(model.config, 4);
      assert.throws(() => referencePrefill(backend, model, PROMPT, { kv }), /exceed its capacity of 4/);
    });

    test('split like an engine: attention-only model + two expert ranks, rows filled in reverse order, same logits bit for bit', async () => {
      for (const name of ['qwen2_moe-F32', 'qwen3_moe-F32', 'deepseek_v3-F32']) {
        const dir = join(FIXTURES_DIR, name);
        const attention = (await loadModel(dir, { experts: 'none' })).model;
        const c = attention.config;
        const split = c.numExperts / 2;
        const ids = Array.from({ length: c.numExperts }, (_, e) => e);
        const low = (await loadModel(dir, { attentionSide: false, experts: ids.slice(0, split) })).model;
        const high = (await loadModel(dir, { attentionSide: false, experts: ids.slice(split) })).model;
        const kv = KvCache.create(c, PROMPT.length);
        let hidden = backend.gatherRows(attention.attention().embedTokens, Int32Array.from(PROMPT));
        for (let layer = 0; layer < c.numLayers; layer++) {
          const half = attentionHalf(backend, attention, layer, hidden, kv.layers[layer]);
          if (!half.moe) {
            hidden = half.hidden;
            continue;
          }
          const slotOutputs = slotOutputsFor(half.moe);
          const width = slotOutputs.rowSize;
          for (const { expert, slots, tokens } of rowsByExpert(half.moe.routing).reverse()) {
            const rank = expert < split ? low : high;
            // Each row alone, last first: batch-invariant kernels make the batching irrelevant.
            for (let i = slots.length - 1; i >= 0; i--) {
              const row = backend.gatherRows(half.moe.expertInput, tokens.subarray(i, i + 1));
              const y = gatedFfn(backend, rank.expert(layer, expert), row);
              (slotOutputs.data as Float32Array).set(y.toF32(), slots[i] * width);
            }
          }
          hidden = combine(backend, half.hidden, half.moe, slotOutputs);
        }
        const logits = lmHeadLogits(backend, attention, hidden.row(PROMPT.length - 1)).toF32();
        const reference = referencePrefill(backend, (await loadModel(dir)).model, PROMPT);
        assert.deepEqual(Float32Array.from(logits), reference.logits, name);
      }
    });
  });
}
