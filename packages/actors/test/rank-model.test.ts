// The rank model computes each op in one scratch region it reuses (and an expert batch's rows in two more):
// its results must equal the forward's own pieces run without them, and attention's must not change when
// later ops reuse the regions (an expert batch's outputs last until the next batch).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { KvCache, attentionHalf, gatedFfn, loadModel, readModelConfig, residentModel } from '@asap/actors';
import { type Tensor, createBackend } from '@asap/runtime';
import { RankModel } from '../src/ranks/rank-model.ts';
import { FIXTURES_DIR } from './support/checkpoints.ts';

const copy = (t: Tensor): Float32Array => Float32Array.from(t.toF32());

for (const name of ['qwen2_moe-F32', 'deepseek_v3-F32']) {
  test(`${name}: rank ops equal the forward's pieces without scratch; attention's results survive later ops`, async () => {
    const dir = join(FIXTURES_DIR, name);
    const c = await readModelConfig(dir);
    const all = Array.from({ length: c.numExperts }, (_, e) => e);
    const rank = await RankModel.load({ modelDir: dir, backend: 'js', attentionSide: true, experts: c.layerKinds.map((k) => (k === 'moe' ? all : [])) });
    const oracle = await createBackend('js');
    try {
      const model = residentModel((await loadModel(dir)).model, oracle);
      const layer = c.layerKinds.indexOf('moe');
      const ids = Int32Array.from([5, 77, 300, 12, 12, 401, 9, 250]);
      const kv = rank.newKv(ids.length) as KvCache;
      const first = rank.attention(layer, rank.embed(ids), kv);
      const expected = attentionHalf(oracle, model, layer, oracle.gatherRows(model.attention().embedTokens, ids), KvCache.create(c, ids.length, oracle).layers[layer]);
      assert.deepEqual(copy(first.hidden), copy(expected.hidden));
      assert.deepEqual(copy(first.moe!.expertInput), copy(expected.moe!.expertInput));
      const kept = { hidden: copy(first.hidden), input: copy(first.moe!.expertInput), shared: first.moe!.shared && copy(first.moe!.shared.output) };
      // Later ops over fewer rows reuse the region (a larger op would get a new one): the first result is its own memory.
      rank.attention(layer, rank.embed(Int32Array.from([3, 1, 4, 1])), rank.newKv(4));
      // An expert batch as an expert rank gets one (rows grouped by expert), against gatedFfn without scratch.
      const input = first.moe!.expertInput;
      const { outputs, batches } = rank.experts(layer, [{ groups: [[0, 3], [1, 5]], rows: input }]);
      const want = [gatedFfn(oracle, model.expert(layer, 0), input.rows(0, 3)), gatedFfn(oracle, model.expert(layer, 1), input.rows(3, 8))];
      assert.deepEqual(batches, [3, 5]);
      assert.deepEqual(copy(outputs[0]), Float32Array.from([...copy(want[0]), ...copy(want[1])]));
      // The next batch reuses the regions (its outputs replace these: valid until the next batch, by contract).
      const next = rank.experts(layer, [{ groups: [[1, 2], [2, 2]], rows: input.rows(0, 4) }]);
      const wantNext = [gatedFfn(oracle, model.expert(layer, 1), input.rows(0, 2)), gatedFfn(oracle, model.expert(layer, 2), input.rows(2, 4))];
      assert.deepEqual(copy(next.outputs[0]), Float32Array.from([...copy(wantNext[0]), ...copy(wantNext[1])]));
      assert.deepEqual(copy(first.hidden), kept.hidden);
      assert.deepEqual(copy(first.moe!.expertInput), kept.input);
      if (kept.shared) assert.deepEqual(copy(first.moe!.shared!.output), kept.shared);
    } finally {
      rank.dispose();
      oracle.dispose();
    }
  });
}
