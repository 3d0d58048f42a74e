// config.json normalisation: the transformers defaults of each architecture, layer kinds, and config errors.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointError, parseModelConfig, readModelConfig } from '@asap/actors';
import { FIXTURES_DIR, withTempDir } from './support/checkpoints.ts';

test('mixtral defaults are MixtralConfig defaults', () => {
  const c = parseModelConfig({ model_type: 'mixtral' });
  assert.deepEqual(
    [c.vocabSize, c.hiddenSize, c.numLayers, c.numHeads, c.numKvHeads, c.headDim, c.maxPositionEmbeddings],
    [32000, 4096, 32, 32, 8, 128, 131072],
  );
  assert.deepEqual([c.rmsNormEps, c.ropeTheta, c.numExperts, c.topK, c.expertIntermediateSize], [1e-5, 1e6, 8, 2, 14336]);
  assert.deepEqual([c.normTopkProb, c.qkvBias, c.qkNorm, c.tieWordEmbeddings, c.slidingWindow], [true, false, false, false, null]);
  assert.equal(c.sharedExpertIntermediateSize, 0);
  assert.deepEqual(new Set(c.layerKinds), new Set(['moe']));
});

test('qwen2_moe defaults are Qwen2MoeConfig defaults', () => {
  const c = parseModelConfig({ model_type: 'qwen2_moe' });
  assert.deepEqual(
    [c.vocabSize, c.hiddenSize, c.numLayers, c.numHeads, c.numKvHeads, c.headDim, c.maxPositionEmbeddings],
    [151936, 2048, 24, 16, 16, 128, 32768],
  );
  assert.deepEqual([c.rmsNormEps, c.ropeTheta, c.numExperts, c.topK], [1e-6, 10000, 60, 4]);
  assert.deepEqual([c.expertIntermediateSize, c.denseIntermediateSize, c.sharedExpertIntermediateSize], [1408, 5632, 5632]);
  assert.deepEqual([c.normTopkProb, c.qkvBias, c.oBias, c.qkNorm, c.slidingWindow], [false, true, false, false, null]);
  assert.equal(c.layerKinds.length, 24);
  assert.ok(c.layerKinds.every((k) => k === 'moe'));
});

test('qwen3_moe defaults are Qwen3MoeConfig defaults', () => {
  const c = parseModelConfig({ model_type: 'qwen3_moe' });
  assert.deepEqual(
    [c.vocabSize, c.hiddenSize, c.numLayers, c.numHeads, c.numKvHeads, c.headDim, c.maxPositionEmbeddings],
    [151936, 2048, 24, 32, 4, 64, 32768],
  );
  assert.deepEqual([c.rmsNormEps, c.ropeTheta, c.numExperts, c.topK], [1e-6, 10000, 128, 8]);
  assert.deepEqual([c.expertIntermediateSize, c.denseIntermediateSize, c.sharedExpertIntermediateSize], [768, 6144, 0]);
  assert.deepEqual([c.normTopkProb, c.qkvBias, c.oBias, c.qkNorm], [false, false, false, true]);
  const biased = parseModelConfig({ model_type: 'qwen3_moe', attention_bias: true, head_dim: 128 });
  assert.deepEqual([biased.qkvBias, biased.oBias, biased.headDim], [true, true, 128]);
});

test('layer kinds follow decoder_sparse_step and mlp_only_layers', () => {
  const kinds = (extra: Record<string, unknown>) =>
    parseModelConfig({ model_type: 'qwen3_moe', num_hidden_layers: 4, ...extra }).layerKinds.join(',');
  assert.equal(kinds({ decoder_sparse_step: 2 }), 'dense,moe,dense,moe');
  assert.equal(kinds({ mlp_only_layers: [0, 3] }), 'dense,moe,moe,dense');
  assert.equal(kinds({ num_experts: 0 }), 'dense,dense,dense,dense');
  assert.equal(kinds({ decoder_sparse_step: 3, mlp_only_layers: [2] }), 'dense,dense,dense,dense');
});

test('fixture configs normalise as the fixture README describes', async () => {
  const qwen3 = await readModelConfig(join(FIXTURES_DIR, 'qwen3_moe-F32'));
  assert.deepEqual(qwen3.layerKinds, ['dense', 'moe', 'dense', 'moe']);
  assert.equal(qwen3.headDim, 32);
  const qwen2 = await readModelConfig(join(FIXTURES_DIR, 'qwen2_moe-F32'));
  assert.deepEqual(qwen2.layerKinds, ['moe', 'dense', 'moe']);
  assert.equal(qwen2.sharedExpertIntermediateSize, 96);
});

test('num_key_value_heads null means one kv head per query head; head_dim null derives from hidden size', () => {
  const c = parseModelConfig({ model_type: 'mixtral', num_key_value_heads: null, head_dim: null, hidden_size: 256, num_attention_heads: 8 });
  assert.deepEqual([c.numKvHeads, c.headDim], [8, 32]);
});

test('RoPE base from rope_theta or rope_parameters; scaled RoPE is refused', () => {
  assert.equal(parseModelConfig({ model_type: 'qwen2_moe', rope_theta: 5e5 }).ropeTheta, 5e5);
  assert.equal(parseModelConfig({ model_type: 'qwen2_moe', rope_parameters: { rope_type: 'default', rope_theta: 2e6 } }).ropeTheta, 2e6);
  assert.throws(
    () => parseModelConfig({ model_type: 'qwen3_moe', rope_scaling: { rope_type: 'yarn', factor: 4 } }),
    /config\.json: RoPE type "yarn" is not supported/,
  );
  assert.throws(() => parseModelConfig({ model_type: 'mixtral', partial_rotary_factor: 0.5 }), /partial_rotary_factor 0.5 is not supported/);
});

test('bad fields are named', () => {
  assert.throws(() => parseModelConfig({ model_type: 'mixtral', hidden_size: '64' }), /config\.json: hidden_size must be an integer >= 1, got "64"/);
  assert.throws(() => parseModelConfig({ model_type: 'mixtral', hidden_act: 'gelu' }), /hidden_act "gelu" is not supported/);
  assert.throws(
    () => parseModelConfig({ model_type: 'mixtral', num_attention_heads: 6, num_key_value_heads: 4 }),
    /num_attention_heads \(6\) must be a multiple of num_key_value_heads \(4\)/,
  );
  assert.throws(() => parseModelConfig({ model_type: 'mixtral', num_local_experts: 2, num_experts_per_tok: 3 }), /num_experts_per_tok \(3\) exceeds/);
  assert.throws(() => parseModelConfig({ model_type: 'qwen2_moe', mlp_only_layers: 'none' }), /mlp_only_layers must be a list of integers/);
});

test('unknown or missing model_type is rejected', () => {
  assert.throws(() => parseModelConfig({ model_type: 'llama' }), (e: Error) => e instanceof CheckpointError && /unknown model_type "llama" \(supported: mixtral, qwen2_moe, qwen3_moe, deepseek_v3\)/.test(e.message));
  assert.throws(() => parseModelConfig({}), /missing model_type/);
  assert.throws(() => parseModelConfig([1]), /not a JSON object/);
});

test('a directory without config.json, or with a config.json that is not JSON, is rejected naming the file', async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(readModelConfig(dir), (e: Error) => e instanceof CheckpointError && e.message === `${join(dir, 'config.json')}: missing config.json: not a model directory`);
    await writeFile(join(dir, 'config.json'), '{"model_type": ');
    await assert.rejects(readModelConfig(dir), /config\.json: not valid JSON/);
  });
});
