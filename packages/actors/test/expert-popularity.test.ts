// Numerics off draws each chunk's rows per expert, not each token's experts: the counts must add up the
// way routed rows do, and match drawing every token's k distinct experts from the same Zipf law.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom, Tensor } from '@asap/runtime';
import { ExpertPopularity } from '../src/ranks/expert-popularity.ts';
import { parseModelConfig } from '../src/model/config/parse.ts';
import { planDispatch, requestRuns } from '../src/ranks/dispatch-rows.ts';

const config = parseModelConfig({
  architectures: ['Qwen3MoeForCausalLM'],
  model_type: 'qwen3_moe',
  vocab_size: 1000,
  hidden_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 16,
  intermediate_size: 128,
  moe_intermediate_size: 32,
  num_experts: 64,
  num_experts_per_tok: 8,
  norm_topk_prob: true,
  decoder_sparse_step: 1,
  mlp_only_layers: [],
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  tie_word_embeddings: false,
  hidden_act: 'silu',
  torch_dtype: 'float32',
});

/** What counting is a shortcut for: each token draws k distinct experts, hotter ones more often. */
function referenceShares(popularity: number[], k: number, tokens: number, random: () => number): number[] {
  const cdf: number[] = [];
  popularity.reduce((s, p, i) => (cdf[i] = s + p), 0);
  const hits = new Array<number>(popularity.length).fill(0);
  for (let t = 0; t < tokens; t++) {
    const chosen = new Set<number>();
    while (chosen.size < k) {
      const u = random() * cdf[cdf.length - 1];
      chosen.add(cdf.findIndex((c) => c >= u));
    }
    for (const e of chosen) hits[e]++;
  }
  return hits.map((h) => h / tokens);
}

test('counts total rows × k, never more than one pick per token, and are the same for the same seed', () => {
  const popularity = new ExpertPopularity(config, { skew: 1.2, seed: 3 });
  for (const rows of [1, 7, 300, 5000]) {
    const a = popularity.counts(1, rows, (() => { const r = new SeededRandom(9); return () => r.next(); })());
    const b = popularity.counts(1, rows, (() => { const r = new SeededRandom(9); return () => r.next(); })());
    assert.deepEqual(a, b);
    assert.equal(a.reduce((s, n) => s + n, 0), rows * 8, `${rows} rows`);
    assert.ok(a.every((n) => n >= 0 && n <= rows), `${rows} rows: each expert at most once per token`);
  }
});

test('each expert\'s share of rows matches drawing every token\'s k distinct experts (skew 1.2, within 0.02)', () => {
  const skew = 1.2;
  const popularity = new ExpertPopularity(config, { skew, seed: 3 });
  const random = new SeededRandom(4);
  const rows = 20_000;
  const counts = popularity.counts(0, rows, () => random.next());
  const sorted = [...counts].sort((a, b) => b - a).map((n) => n / rows);
  const weights = Array.from({ length: 64 }, (_, r) => 1 / (r + 1) ** skew);
  const total = weights.reduce((a, b) => a + b, 0);
  const reference = referenceShares(weights.map((w) => w / total), 8, rows, () => random.next());
  // The hottest expert is picked by most tokens, the coldest by few: both as the per-token draw says.
  for (const r of [0, 1, 2, 5, 10, 30, 63]) assert.ok(Math.abs(sorted[r] - reference[r]) < 0.02, `rank ${r}: ${sorted[r]} vs ${reference[r]}`);
});

test('planDispatch on counted rows: groups per destination by expert, runs per chunk, nothing per token', () => {
  const counts = (pairs: [number, number][]): Int32Array => {
    const c = new Int32Array(4);
    for (const [e, n] of pairs) c[e] = n;
    return c;
  };
  const routing = { topK: 2, experts: new Int32Array(0), weights: new Float32Array(0) };
  const dispatches = [
    { layer: 0, expertInput: Tensor.zeros([3, 0]), routing, expertCounts: counts([[0, 2], [3, 4]]) },
    { layer: 0, expertInput: Tensor.zeros([2, 0]), routing, expertCounts: counts([[0, 1], [1, 2], [2, 1]]) },
  ];
  // Experts 0, 1 on rank 0; 2, 3 on rank 1.
  const plan = planDispatch(dispatches, [[0], [0], [1], [1]], 2, () => assert.fail('no replicas'));
  assert.deepEqual(plan[0].groups, [[0, 3], [1, 2]]);
  assert.deepEqual(plan[0].countedRuns, [[0, 2], [1, 1], [1, 2]]);
  assert.equal(plan[0].rows.rowCount, 5);
  assert.deepEqual(plan[1].groups, [[2, 1], [3, 4]]);
  assert.deepEqual(requestRuns(plan[1], (chunk) => 100 + chunk), [[101, 1], [100, 4]]);
});

test('planDispatch on counted rows: a group of an expert with copies is split in equal parts over its holders', () => {
  const routing = { topK: 2, experts: new Int32Array(0), weights: new Float32Array(0) };
  const expertCounts = Int32Array.from([7, 0, 1]);
  const dispatches = [{ layer: 0, expertInput: Tensor.zeros([4, 0]), routing, expertCounts }];
  // Expert 0 on ranks 0, 1 and 2; expert 2 on ranks 1 and 2.
  let turn = 0;
  const picks: [number, number][] = [];
  const plan = planDispatch(dispatches, [[0, 1, 2], [0], [1, 2]], 3, (expert, holders, rows) => {
    picks.push([expert, rows]);
    return holders[turn++ % holders.length];
  });
  assert.deepEqual(picks, [[0, 3], [0, 2], [0, 2], [2, 1]], 'parts of 7 over three holders, larger first; 1 row is one part');
  assert.deepEqual(plan.map((p) => p.groups), [[[0, 3]], [[0, 2]], [[0, 2], [2, 1]]]);
  // A chooser that always picks the first holder: the parts merge into one run.
  const first = planDispatch(dispatches, [[0, 1, 2], [0], [1, 2]], 3, (_e, holders) => holders[0]);
  assert.deepEqual(first[0].countedRuns, [[0, 7]]);
});
