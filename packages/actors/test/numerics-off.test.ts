// Numerics off: the same rank actors carry shapes instead of values — no weight is read (the checkpoint
// here is config.json alone), routing comes from a seeded popularity model, and the sim host still charges
// every op and every byte. How the simulation issue runs clusters far larger than this machine.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type EngineOptions, EngineConfigError, createEngine } from '@asap/actors';
import { withTempDir } from './support/checkpoints.ts';
import { withEngine } from './support/engines.ts';

/** A Qwen3-235B-like shape (hidden 4096, 128 experts top-8; 8 of its 94 layers, to keep the test short): config.json only. */
const LARGE = {
  architectures: ['Qwen3MoeForCausalLM'],
  model_type: 'qwen3_moe',
  vocab_size: 151936,
  hidden_size: 4096,
  num_hidden_layers: 8,
  num_attention_heads: 64,
  num_key_value_heads: 4,
  head_dim: 128,
  max_position_embeddings: 40960,
  intermediate_size: 12288,
  moe_intermediate_size: 1536,
  num_experts: 128,
  num_experts_per_tok: 8,
  norm_topk_prob: true,
  decoder_sparse_step: 1,
  mlp_only_layers: [],
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  attention_bias: false,
  tie_word_embeddings: false,
  hidden_act: 'silu',
  torch_dtype: 'bfloat16',
};

const lengths = [4096, 64, 1024, 16, 300, 8192, 32];
const prompts = lengths.map((n) => Array.from({ length: n }, (_, i) => i % 1000));

async function run(model: string, options: Omit<EngineOptions, 'model'>): Promise<{ ttft: number[]; tokens: number[]; expertRows: number }> {
  return withEngine({ model, host: 'sim', numerics: false, spans: false, kvBudgetBytes: 2 ** 36, ...options }, async (engine) => {
    const outcomes = await Promise.all(prompts.map((tokens) => engine.prefill({ tokens })));
    const stats = await engine.stats();
    return {
      ttft: outcomes.map((o) => o.ttftMs),
      tokens: outcomes.map((o) => o.firstToken),
      expertRows: stats.ranks.reduce((n, r) => n + r.expertRows, 0),
    };
  });
}

describe('numerics off, Qwen3-235B-sized layers from a config alone', () => {
  const engines: ReadonlyArray<readonly [string, Omit<EngineOptions, 'model'>]> = [
    ['sync, 8 ranks', { engine: 'sync', ranks: 8, sync: { tokenBudget: 1024 } }],
    ['asap, 4 attention + 4 expert ranks', { engine: 'asap', attentionRanks: 4, expertRanks: 4 }],
    ['asap colocated, 8 ranks', { engine: 'asap', ranks: 8, asap: { placement: 'colocated' } }],
  ];
  for (const [name, options] of engines) {
    test(`${name}: every request ends, every routed row is served, the same seed gives the same times`, () =>
      withTempDir(async (dir) => {
        await writeFile(join(dir, 'config.json'), JSON.stringify(LARGE));
        const a = await run(dir, options);
        const b = await run(dir, options);
        assert.deepEqual(a.tokens, prompts.map(() => -1), 'no values, no token');
        const routed = lengths.reduce((n, t) => n + t, 0) * LARGE.num_experts_per_tok * LARGE.num_hidden_layers;
        assert.equal(a.expertRows, routed, 'every routed row computed once');
        assert.deepEqual(a.ttft, b.ttft, 'deterministic');
        assert.ok(a.ttft.every((t) => t > 0 && Number.isFinite(t)));
        // The 8,192-token prompt costs more than the 16-token one placed with it.
        assert.ok(a.ttft[5] > a.ttft[3]);
      }));
  }
  test('numerics off is refused on the threads host and for the reference engine', () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'config.json'), JSON.stringify(LARGE));
      await assert.rejects(createEngine({ model: dir, engine: 'sync', numerics: false }), EngineConfigError);
      await assert.rejects(createEngine({ model: dir, engine: 'reference', host: 'sim', numerics: false }), EngineConfigError);
    }));
});
