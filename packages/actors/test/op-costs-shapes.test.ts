// The model shapes (config.json only) and the roofline cost of each rank op on them, checked against the
// arithmetic written out here from the models' matrices, independently of op-costs.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MODEL_SHAPES,
  type ModelConfig,
  attentionOp,
  checkpointWeightBytes,
  combineOp,
  expertOp,
  expertsOp,
  lmHeadOp,
  modelShapeDir,
  readModelConfig,
} from '@asap/actors';

const F32 = 4;
/** A chunk of 1,024 tokens after 2,048 already cached; causal: row i sees 2,048 + i + 1 keys. */
const T = 1024;
const S = 2048;
const KEYS_SEEN = T * S + (T * (T + 1)) / 2;

async function shape(name: string): Promise<ModelConfig> {
  return readModelConfig(modelShapeDir(name));
}

test('shapes: both parse as the real models, numerics off needs no weights', async () => {
  assert.deepEqual(MODEL_SHAPES, ['deepseek-v3', 'qwen3-235b']);
  const ds = await shape('deepseek-v3');
  assert.deepEqual(
    [ds.numLayers, ds.layerKinds.filter((k) => k === 'dense').length, ds.numExperts, ds.topK, ds.sharedExpertIntermediateSize, ds.hiddenSize, ds.vocabSize],
    [61, 3, 256, 8, 2048, 7168, 129280],
  );
  assert.deepEqual(ds.mla, { qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128, ropeInterleave: true });
  const qw = await shape('qwen3-235b');
  assert.deepEqual(
    [qw.numLayers, qw.hiddenSize, qw.numHeads, qw.numKvHeads, qw.headDim, qw.numExperts, qw.topK, qw.expertIntermediateSize, qw.sharedExpertIntermediateSize, qw.vocabSize],
    [94, 4096, 64, 4, 128, 128, 8, 1536, 0, 151936],
  );
  assert.ok(qw.layerKinds.every((k) => k === 'moe'));
  // DeepSeek-V3 ships fp8 weights (quantization_config); Qwen3 bf16.
  assert.equal(checkpointWeightBytes(ds), 1);
  assert.equal(checkpointWeightBytes(qw), 2);
  assert.throws(() => modelShapeDir('llama'), /unknown model shape "llama" \(shapes: deepseek-v3, qwen3-235b\)/);
});

test('op costs on DeepSeek-V3 (MLA, shared expert, 3 dense layers; fp8: 1 byte a weight)', async () => {
  const c = await shape('deepseek-v3');
  const h = 7168;
  // MLA weights: q_a_proj, q_b_proj (128 heads × (128 nope + 64 rope)), kv_a_proj_with_mqa (latent 512 +
  // rope key 64), kv_b_proj (latent → 128 heads × (128 nope key + 128 value)), o_proj.
  const mla = h * 1536 + 1536 * (128 * 192) + h * (512 + 64) + 512 * (128 * (128 + 128)) + 128 * 128 * h;
  assert.equal(mla, 187_105_280);
  // kv_b (512 → 128 × 256) expands every held position's latent, cached ones too; the rest run per new token.
  const kvB = 512 * (128 * (128 + 128));
  const projections = 2 * T * (mla - kvB) + 2 * (S + T) * kvB;
  // Attention per key: QKᵀ at the 192-wide head, PV at the 128-wide value (2 FLOPs a multiply-add each).
  const attend = 2 * 128 * (192 + 128) * KEYS_SEEN;
  // The MLA cache holds the latent and the rope key, f32: (512 + 64) × 4 bytes per position; the hidden rows
  // are read and written 4 × per token.
  const activations = F32 * ((S + T) * (512 + 64) + 4 * T * h);

  const router = h * 256;
  const shared = 3 * h * 2048;
  const moe = attentionOp(c, 3, T, S, 1);
  assert.equal(moe.flops, projections + 2 * T * (router + shared) + attend);
  assert.equal(moe.bytes, mla + router + shared + activations);
  assert.equal(moe.contextFlops, attend, 'the attention over the held keys, which kernels run at a rate of their own');

  const denseFfn = 3 * h * 18432;
  const dense = attentionOp(c, 0, T, S, 1);
  assert.equal(dense.flops, projections + 2 * T * denseFfn + attend);
  assert.equal(dense.bytes, mla + denseFfn + activations);

  // One routed expert: gate, up, down (3 × 7,168 × 2,048), 100 rows in f32 in and out, the 2,048-wide gate/up.
  const expert = expertOp(c, 100, 1);
  assert.equal(expert.flops, 2 * 100 * 3 * h * 2048);
  assert.equal(expert.bytes, 3 * h * 2048 + F32 * 100 * (2 * h + 2 * 2048));
  const batch = expertsOp(c, [100, 0, 28], 1);
  assert.equal(batch.flops, 2 * 128 * 3 * h * 2048, 'FLOPs follow the rows');
  assert.equal(batch.bytes, 3 * (3 * h * 2048) + F32 * 128 * (2 * h + 2 * 2048), 'every expert of the batch reads its weights once');

  // Combine: 8 routed outputs + the shared one weighted into the residual: 2 FLOPs per element each; reads
  // 8 outputs, the residual, the shared output, writes one row (11 rows of f32).
  const combine = combineOp(c, T);
  assert.equal(combine.flops, 2 * T * h * 9);
  assert.equal(combine.bytes, F32 * T * h * 11);

  const head = lmHeadOp(c, 1, 1);
  assert.equal(head.flops, 2 * h * 129280);
  assert.equal(head.bytes, h * 129280);
});

test('op costs on Qwen3-235B-A22B (GQA 64 q / 4 kv heads of 128; bf16: 2 bytes a weight)', async () => {
  const c = await shape('qwen3-235b');
  const h = 4096;
  // q_proj 4,096 → 64 × 128, k_proj and v_proj 4,096 → 4 × 128, o_proj 64 × 128 → 4,096; router 4,096 → 128.
  const attention = h * 8192 + 2 * h * 512 + 8192 * h;
  const router = h * 128;
  assert.equal(attention, 71_303_168);
  const op = attentionOp(c, 10, T, S, 2);
  assert.equal(op.flops, 2 * T * (attention + router) + 4 * 64 * 128 * KEYS_SEEN);
  assert.equal(op.contextFlops, 4 * 64 * 128 * KEYS_SEEN);
  // The cache holds 4 kv heads × 128 keys and values, f32.
  assert.equal(op.bytes, 2 * (attention + router) + F32 * ((S + T) * 2 * 512 + 4 * T * h));

  const expert = expertOp(c, 64, 2);
  assert.equal(expert.flops, 2 * 64 * 3 * h * 1536);
  assert.equal(expert.bytes, 2 * 3 * h * 1536 + F32 * 64 * (2 * h + 2 * 1536));

  // No shared expert: the 8 routed outputs summed into the residual; read 8 outputs and the residual, write it.
  const combine = combineOp(c, T);
  assert.equal(combine.flops, 2 * T * h * 8);
  assert.equal(combine.bytes, F32 * T * h * 10);

  const head = lmHeadOp(c, 1, 2);
  assert.equal(head.flops, 2 * h * 151936);
  assert.equal(head.bytes, 2 * h * 151936);
});
