// deepseek_v3: config (legacy form, defaults, refusals naming the field), the router, the KV cache's form,
// multi-token-prediction tensors left unread, and BF16 storage against its F32 upcast.
import assert from 'node:assert/strict';
import { copyFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  CheckpointError,
  checkpointSpecs,
  generateTensor,
  groupLimitedTopK,
  isMla,
  KvCache,
  kvBytesPerToken,
  kvWidths,
  loadModel,
  parseModelConfig,
  PRESETS,
  presetConfigJson,
  readModelConfig,
  referencePrefill,
  residentModel,
  writeCheckpointWeights,
} from '@asap/actors';
import { createBackend, Tensor } from '@asap/runtime';
import { editConfig, FIXTURES_DIR, readSafetensorsParts, withTempDir, withTinyModel, writeSafetensorsParts } from './support/checkpoints.ts';

const FIXTURE = join(FIXTURES_DIR, 'deepseek_v3-F32');
const f = Math.fround;

function configError(raw: Record<string, unknown>, pattern: RegExp): void {
  assert.throws(
    () => parseModelConfig({ model_type: 'deepseek_v3', ...raw }),
    (e: Error) => e instanceof CheckpointError && pattern.test(e.message),
    `expected ${pattern}`,
  );
}

describe('deepseek_v3 config', () => {
  test('the fixture (legacy rope_scaling) normalises to MLA, YaRN and group routing', async () => {
    const c = await readModelConfig(FIXTURE);
    assert.equal(c.arch, 'deepseek_v3');
    assert.deepEqual(c.mla, { qLoraRank: 64, kvLoraRank: 48, qkNopeHeadDim: 32, qkRopeHeadDim: 16, vHeadDim: 24, ropeInterleave: true });
    assert.deepEqual(c.ropeScaling, {
      factor: 40,
      originalMaxPositionEmbeddings: 4096,
      betaFast: 32,
      betaSlow: 1,
      mscale: 1,
      mscaleAllDim: 1,
      attentionFactor: null,
      truncate: true,
    });
    assert.deepEqual(c.groupRouting, { numGroups: 4, topkGroups: 2, routedScalingFactor: 2.5 });
    assert.deepEqual(c.layerKinds, ['dense', 'moe', 'moe', 'moe']);
    assert.deepEqual([c.headDim, c.numKvHeads, c.numExperts, c.topK], [48, 4, 16, 4]);
    assert.deepEqual([c.expertIntermediateSize, c.sharedExpertIntermediateSize, c.denseIntermediateSize], [48, 48, 256]);
  });

  test('defaults are DeepseekV3Config defaults (DeepSeek-V3 itself)', () => {
    const c = parseModelConfig({ model_type: 'deepseek_v3' });
    assert.deepEqual([c.vocabSize, c.hiddenSize, c.numLayers, c.numHeads, c.maxPositionEmbeddings], [129280, 7168, 61, 128, 4096]);
    assert.deepEqual(c.mla, { qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128, ropeInterleave: true });
    assert.deepEqual([c.numExperts, c.topK, c.expertIntermediateSize, c.sharedExpertIntermediateSize], [256, 8, 2048, 2048]);
    assert.deepEqual(c.groupRouting, { numGroups: 8, topkGroups: 4, routedScalingFactor: 2.5 });
    assert.deepEqual(c.layerKinds.slice(0, 4), ['dense', 'dense', 'dense', 'moe']);
    assert.equal(c.ropeScaling, undefined);
    // DeepSeek-V3's cache: (512 latent + 64 RoPE key) f32 per layer and position.
    assert.deepEqual(kvWidths(c), { keys: 64, values: 512 });
    assert.equal(kvBytesPerToken(c), 61 * 576 * 4);
  });

  test("transformers 5's rope_parameters and a q_proj without LoRA are read too", () => {
    const c = parseModelConfig({
      model_type: 'deepseek_v3',
      q_lora_rank: null,
      rope_parameters: { rope_type: 'yarn', rope_theta: 50000, factor: 8, original_max_position_embeddings: 2048 },
    });
    assert.equal(c.ropeTheta, 50000);
    assert.equal(c.mla?.qLoraRank, null);
    assert.deepEqual([c.ropeScaling?.factor, c.ropeScaling?.originalMaxPositionEmbeddings, c.ropeScaling?.mscale], [8, 2048, null]);
  });

  test('variants not implemented are refused, naming the field', () => {
    configError({ topk_method: 'greedy' }, /topk_method "greedy" is not supported \(only "noaux_tc"\)/);
    configError({ scoring_func: 'softmax' }, /scoring_func "softmax" is not supported \(only "sigmoid"\)/);
    configError({ rope_scaling: { type: 'linear', factor: 2 } }, /rope_scaling\.type "linear" is not supported/);
    configError({ rope_scaling: { type: 'yarn' } }, /rope_scaling\.factor is missing/);
    configError({ rope_scaling: { type: 'yarn', factor: -1 } }, /rope_scaling\.factor must be a positive number, got -1/);
    configError({ moe_layer_freq: 2 }, /moe_layer_freq 2 is not supported/);
    configError({ attention_bias: true }, /attention_bias true is not supported/);
    configError({ n_routed_experts: 10, n_group: 4 }, /n_routed_experts \(10\) must be a multiple of n_group \(4\)/);
    configError({ n_routed_experts: 8, n_group: 8 }, /fewer than 2 experts per group/);
    configError({ n_group: 4, topk_group: 5 }, /topk_group \(5\) exceeds n_group \(4\)/);
    configError({ n_routed_experts: 16, n_group: 4, topk_group: 1, num_experts_per_tok: 5 }, /num_experts_per_tok \(5\) exceeds the 4 experts/);
    configError({ qk_rope_head_dim: 7 }, /qk_rope_head_dim must be even/);
    configError({ num_nextn_predict_layers: -1 }, /num_nextn_predict_layers must be an integer >= 0/);
  });
});

describe('deepseek_v3 routing', () => {
  const sigmoid = (x: number) => f(1 / f(1 + f(Math.exp(-x))));
  // 8 experts in 4 groups of 2, 2 groups kept, top-2.
  const routing = { numGroups: 4, topkGroups: 2, routedScalingFactor: 2.5 };

  test('groups by their two best biased scores; the bias chooses, the unbiased scores weigh; scaling folded in', () => {
    // Expert 0 alone is the best, but group 0's pair is weak; groups 1 and 3 win.
    const logits = Tensor.fromF32([3, -3, 1, 1, 0.5, -2, 1.2, 0.9], [1, 8]);
    const plain = groupLimitedTopK(logits, new Float32Array(8), 2, true, routing);
    assert.deepEqual([...plain.experts], [6, 2]);
    // A bias lifts expert 3 to the first slot (slots follow the biased scores); its weight stays its unbiased score.
    const bias = Float32Array.from([0, 0, 0, 0.1, 0, 0, 0, 0]);
    const biased = groupLimitedTopK(logits, bias, 2, true, routing);
    assert.deepEqual([...biased.experts], [3, 6]);
    const [a, b] = [sigmoid(1), sigmoid(1.2)];
    const sum = f(f(a + b) + 1e-20);
    assert.deepEqual([...biased.weights], [f(f(a / sum) * 2.5), f(f(b / sum) * 2.5)]);
    const raw = groupLimitedTopK(logits, bias, 2, false, routing);
    assert.deepEqual([...raw.weights], [f(a * 2.5), f(b * 2.5)]);
  });

  test('experts of dropped groups are never chosen, even when every kept expert scores below zero', () => {
    // Biased scores: -0.5 in groups 0 and 1, -1.5 in groups 2 and 3 (DeepSeek masks dropped groups with −∞;
    // transformers' fill with 0 would pick experts 4.. here).
    const bias = Float32Array.from([-1, -1, -1, -1, -2, -2, -2, -2]);
    const choice = groupLimitedTopK(Tensor.zeros([1, 8]), bias, 3, true, routing);
    assert.deepEqual([...choice.experts], [0, 1, 2]);
  });

  test('ties go to the lower group and the lower expert; rows are independent of their batch', () => {
    const tied = groupLimitedTopK(Tensor.zeros([1, 8]), new Float32Array(8), 3, true, routing);
    assert.deepEqual([...tied.experts], [0, 1, 2]);
    const rows = Array.from({ length: 5 }, (_, r) => Array.from({ length: 8 }, (_, e) => Math.sin(r * 8 + e) * 2));
    const bias = Float32Array.from({ length: 8 }, (_, e) => 0.01 * e);
    const batch = groupLimitedTopK(Tensor.fromF32(rows.flat(), [5, 8]), bias, 2, true, routing);
    rows.forEach((row, r) => {
      const alone = groupLimitedTopK(Tensor.fromF32(row, [1, 8]), bias, 2, true, routing);
      assert.deepEqual([...alone.experts], [...batch.experts.subarray(2 * r, 2 * r + 2)]);
      assert.deepEqual([...alone.weights], [...batch.weights.subarray(2 * r, 2 * r + 2)]);
    });
    assert.throws(() => groupLimitedTopK(Tensor.fromF32([NaN, 0, 0, 0, 0, 0, 0, 0], [1, 8]), bias, 2, true, routing), /row 0, expert 0 is NaN/);
  });
});

describe('deepseek_v3 KV cache and checkpoint', () => {
  test('the cache holds the normed latent and the RoPE key: 1024 bytes per token for the fixture', async () => {
    const backend = await createBackend('js');
    const { model } = await loadModel(FIXTURE);
    const c = model.config;
    assert.deepEqual(kvWidths(c), { keys: 16, values: 48 });
    assert.equal(kvBytesPerToken(c), 4 * (16 + 48) * 4);
    const tokens = [3, 500, 77, 12];
    const kv = referencePrefill(backend, model, tokens).kv;
    assert.deepEqual(kv.layers[0].filledKeys.shape, [4, 16]);
    assert.deepEqual(kv.layers[0].filledValues.shape, [4, 48]);
    // Layer 0 from its definition: latent = kv_a_layernorm(x · kv_a_proj[:48]ᵀ); position 0's RoPE key is
    // the raw key (rotation by 0, YaRN attention factor 1 here) with its interleaved pairs split.
    const layer = model.attention().layers[0];
    const attention = layer.attention;
    assert.ok(isMla(attention));
    const x = backend.rmsNorm(backend.gatherRows(model.attention().embedTokens, Int32Array.from(tokens)), layer.inputNorm, c.rmsNormEps);
    const latent = backend.rmsNorm(backend.matmul(x, attention.kvA.rows(0, 48)), attention.kvANorm, c.rmsNormEps);
    assert.deepEqual(kv.layers[0].filledValues.toF32(), latent.toF32());
    const raw = backend.matmul(x.row(0), attention.kvA.rows(48, 64)).toF32();
    const split = [...raw.filter((_, i) => i % 2 === 0), ...raw.filter((_, i) => i % 2 === 1)];
    assert.deepEqual([...kv.layers[0].filledKeys.row(0).toF32()], split);
  });

  test('multi-token-prediction layer tensors are skipped without reading their bytes', async () => {
    await withTinyModel('deepseek_v3', async (dir) => {
      const backend = await createBackend('js');
      const tokens = [1, 2, 3, 200, 17];
      const before = referencePrefill(backend, (await loadModel(dir)).model, tokens);
      // What a real checkpoint carries after the last layer: layer N = num_hidden_layers, its own tensors.
      const path = join(dir, 'model.safetensors');
      const parts = await readSafetensorsParts(path);
      const mtp = Tensor.fromF32(Array.from({ length: 64 * 128 }, (_, i) => Math.cos(i)), [64, 128]);
      const bytes = Buffer.from(mtp.data.buffer, mtp.data.byteOffset, mtp.data.byteLength);
      const names = ['model.layers.2.eh_proj.weight', 'model.layers.2.mlp.experts.0.up_proj.weight'];
      names.forEach((name, i) => {
        parts.header[name] = { dtype: 'F32', shape: [64, 128], data_offsets: [parts.data.length + i * bytes.length, parts.data.length + (i + 1) * bytes.length] };
      });
      parts.data = Buffer.concat([parts.data, bytes, bytes]);
      await writeSafetensorsParts(path, parts);
      await editConfig(dir, (c) => {
        c.num_nextn_predict_layers = 1;
      });
      const loaded = await loadModel(dir);
      assert.ok(loaded.tensorsRead.every((name) => !name.startsWith('model.layers.2.')));
      assert.ok(loaded.bytesRead <= (await stat(path)).size - 2 * bytes.length, `read ${loaded.bytesRead} bytes`);
      assert.deepEqual(referencePrefill(backend, loaded.model, tokens).logits, before.logits);
    });
  });

  test('a q_proj without LoRA (q_lora_rank null) loads and prefills; chunked prefill equals the whole prompt', async () => {
    await withTempDir(async (dir) => {
      const json = { ...presetConfigJson('deepseek_v3', PRESETS.tiny, 'float32'), q_lora_rank: null };
      const config = parseModelConfig(json);
      await writeFile(join(dir, 'config.json'), JSON.stringify(json));
      await writeCheckpointWeights(dir, checkpointSpecs(config).map((spec) => [spec.name, generateTensor(spec, 4)] as const));
      const { model, tensorsRead } = await loadModel(dir);
      assert.ok(tensorsRead.includes('model.layers.0.self_attn.q_proj.weight'));
      assert.ok(!tensorsRead.some((name) => name.includes('q_a_proj')));
      const backend = await createBackend('js');
      const tokens = [9, 8, 7, 6, 5, 4, 3];
      const whole = referencePrefill(backend, model, tokens);
      const kv = KvCache.create(config, tokens.length);
      referencePrefill(backend, model, tokens.slice(0, 3), { kv });
      assert.deepEqual(referencePrefill(backend, model, tokens.slice(3), { kv }).logits, whole.logits);
    });
  });

  for (const backendName of ['js', 'wasm'] as const) {
    test(`${backendName}: BF16 storage gives the logits of its F32 upcast within 1e-4`, async (t) => {
      const backend = await createBackend(backendName);
      try {
        await withTinyModel(
          'deepseek_v3',
          async (bf16Dir) => {
            await withTempDir(async (f32Dir) => {
              const config = await readModelConfig(bf16Dir);
              const upcast = checkpointSpecs(config).map((spec) => [spec.name, generateTensor(spec, 3, 'bf16').to('f32')] as const);
              await writeCheckpointWeights(f32Dir, upcast);
              await copyFile(join(bf16Dir, 'config.json'), join(f32Dir, 'config.json'));
              const bf16 = residentModel((await loadModel(bf16Dir)).model, backend);
              const f32 = residentModel((await loadModel(f32Dir)).model, backend);
              assert.equal(bf16.attention().layers[1].attention.o.dtype, 'bf16', 'the matmuls read the bf16 weights themselves');
              const tokens = Array.from({ length: 40 }, (_, i) => (i * 53 + 7) % config.vocabSize);
              const a = referencePrefill(backend, bf16, tokens).logits;
              const b = referencePrefill(backend, f32, tokens).logits;
              let max = 0;
              for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
              t.diagnostic(`max |Δlogit| ${max.toExponential(2)}`);
              assert.ok(max <= 1e-4, `max |Δlogit| ${max}`);
            });
          },
          { seed: 3, dtype: 'bf16' },
        );
      } finally {
        backend.dispose();
      }
    });
  }
});
