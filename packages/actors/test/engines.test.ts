// Every engine, every host, every fixture architecture: first token and logits equal the reference forward
// bit for bit (same backend), with concurrent mixed-length requests, long ones chunked, each production
// feature and each ASAP optimization switched off and on.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { EngineOptions } from '@asap/actors';
import { availableBackends, cudaUnavailableReason } from '@asap/runtime';
import { FIXTURE_NAMES, FIXTURES_DIR } from './support/checkpoints.ts';
import { assertMatchesReference, mixedPrompts, withEngine } from './support/engines.ts';

const VOCAB = 200;
const prompts = mixedPrompts(VOCAB);

type Variant = readonly [name: string, options: Omit<EngineOptions, 'model'>];

const sync = (o: Partial<EngineOptions> = {}): Omit<EngineOptions, 'model'> => ({ engine: 'sync', ranks: 2, sync: { tokenBudget: 16 }, ...o });
const asap = (o: Partial<EngineOptions> = {}): Omit<EngineOptions, 'model'> => ({
  engine: 'asap',
  attentionRanks: 2,
  expertRanks: 2,
  ...o,
  asap: { microBatchTokens: 16, ...o.asap },
});

const ENGINES: readonly Variant[] = [
  ['sync, 2 ranks', sync()],
  ['asap, 2 attention + 2 expert ranks', asap()],
  ['asap colocated, 2 ranks', { engine: 'asap', ranks: 2, asap: { placement: 'colocated', microBatchTokens: 16 } }],
];

describe('engines equal the reference bit for bit on every fixture', () => {
  for (const fixture of FIXTURE_NAMES) {
    const model = join(FIXTURES_DIR, fixture);
    for (const [name, options] of ENGINES) {
      test(`${fixture}: ${name}, sim host`, () => withEngine({ model, host: 'sim', ...options }, (e) => assertMatchesReference(e, model, prompts)));
    }
  }
  // Workers start in ≈1 s each: the threads host runs the two fixtures that differ most (qwen2_moe: shared
  // expert, dense layer, biases; qwen3_moe: q/k norm) for every engine.
  for (const fixture of ['qwen2_moe-F32', 'qwen3_moe-BF16']) {
    const model = join(FIXTURES_DIR, fixture);
    for (const [name, options] of ENGINES) {
      test(`${fixture}: ${name}, threads host`, () => withEngine({ model, host: 'threads', ...options }, (e) => assertMatchesReference(e, model, prompts)));
    }
  }
});

describe('engines on the native backend equal its reference bit for bit', { skip: !availableBackends().includes('native') && 'native backend not built here' }, () => {
  for (const fixture of ['qwen2_moe-F32', 'mixtral-F32']) {
    const model = join(FIXTURES_DIR, fixture);
    for (const [name, options] of ENGINES) {
      test(`${fixture}: ${name}, sim host`, () => withEngine({ model, host: 'sim', backend: 'native', ...options }, (e) => assertMatchesReference(e, model, prompts)));
    }
    test(`${fixture}: sync, threads host`, () => withEngine({ model, host: 'threads', backend: 'native', ...ENGINES[0][1] }, (e) => assertMatchesReference(e, model, prompts)));
  }
});

// Each rank's worker makes its own cuda backend: its own stream, device scratch and weights' device copies.
const cudaMissing = cudaUnavailableReason();
describe('engines on the cuda backend equal its reference bit for bit', { skip: cudaMissing !== undefined && `no CUDA device: ${cudaMissing}` }, () => {
  for (const fixture of ['qwen3_moe-BF16', 'mixtral-F32']) {
    const model = join(FIXTURES_DIR, fixture);
    for (const [name, options] of ENGINES) {
      test(`${fixture}: ${name}, sim host`, () => withEngine({ model, host: 'sim', backend: 'cuda', ...options }, (e) => assertMatchesReference(e, model, prompts)));
    }
    for (const [name, options] of ENGINES.slice(0, 2)) {
      test(`${fixture}: ${name}, threads host`, () => withEngine({ model, host: 'threads', backend: 'cuda', ...options }, (e) => assertMatchesReference(e, model, prompts)));
    }
  }
});

describe('each feature off and on keeps the results exact', () => {
  const model = join(FIXTURES_DIR, 'qwen3_moe-F32');
  const hot = Array.from({ length: 8 }, (_, e) => (e === 3 ? 500 : e));
  const counts = [hot, hot];
  const variants: readonly Variant[] = [
    ['sync without two-batch overlap', sync({ sync: { tokenBudget: 16, twoBatchOverlap: false } })],
    ['sync with round-robin placement', sync({ sync: { tokenBudget: 16, loadAwarePlacement: false } })],
    ['sync with a large budget (no chunking)', sync({ sync: { tokenBudget: 1024 } })],
    ['sync with 3 ranks and hot-expert replicas', sync({ ranks: 3, experts: { routingCounts: counts, redundantExperts: 2 } })],
    ['asap without load-aware placement', asap({ asap: { loadAwarePlacement: false } })],
    ['asap without micro-batch pipelining', asap({ asap: { microBatchPipelining: false } })],
    ['asap with 3 micro-batches in flight', asap({ asap: { microBatches: 3, microBatchTokens: 8 } })],
    ['asap without expert-side batching', asap({ asap: { expertBatching: false } })],
    ['asap with a bounded batch wait of 0.5 ms', asap({ asap: { batchWaitMs: 0.5 } })],
    ['asap with expert-side convoys (2 ms)', asap({ asap: { convoyWaitMs: 2, microBatchTokens: 8 } })],
    ['asap with every ready layer in one expert call', asap({ asap: { groupLayers: true, microBatchTokens: 8 } })],
    ['asap without expert load balancing', asap({ asap: { expertLoadBalancing: false }, experts: { routingCounts: counts } })],
    ['asap with hot-expert replicas on 3 expert ranks', asap({ expertRanks: 3, experts: { routingCounts: counts, redundantExperts: 3 } })],
    ['asap with 1 attention and 1 expert rank', asap({ attentionRanks: 1, expertRanks: 1 })],
    ['sync with a single rank (every barrier passes at once)', sync({ ranks: 1 })],
    ['asap colocated on a single rank', { engine: 'asap', ranks: 1, asap: { placement: 'colocated', microBatchTokens: 16 } }],
  ];
  for (const [name, options] of variants) {
    test(`${name} (sim)`, () => withEngine({ model, host: 'sim', ...options }, (e) => assertMatchesReference(e, model, prompts)));
  }
});

describe('asap under randomized link delays', () => {
  const model = join(FIXTURES_DIR, 'qwen2_moe-F32');
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    test(`seed ${seed}: rows arrive out of order across sources, results stay exact`, () =>
      withEngine({ model, host: 'sim', ...asap({ asap: { microBatchTokens: 8 } }), sim: { seed, link: { latencyMs: 0.05, gbps: 5, jitterMs: 2 } } }, (e) =>
        assertMatchesReference(e, model, prompts),
      ));
  }
  test('duplicated rows and outputs between attention and expert ranks are dropped, never counted twice', () => {
    const fast = { latencyMs: 0.05, gbps: 5, jitterMs: 1 };
    const dataPlane = (from: string, to: string) => (from.startsWith('attn') && to.startsWith('expert')) || (from.startsWith('expert') && to.startsWith('attn'));
    return withEngine(
      { model, host: 'sim', ...asap({ asap: { microBatchTokens: 8 } }), sim: { seed: 3, link: (from, to) => (dataPlane(from, to) ? { ...fast, duplicateProbability: 0.3 } : fast) } },
      (e) => assertMatchesReference(e, model, prompts),
    );
  });
  test('convoys held at the expert ranks, seed 8: results stay exact', () =>
    // Expert ranks busy enough to hold convoys, and one attention rank far slower than the other: rows of a
    // convoy come back apart.
    withEngine({ model, host: 'sim', ...asap({ asap: { microBatchTokens: 8, convoyWaitMs: 10 } }), sim: { seed: 8, deviceCost: (_op, actor) => (actor === 'attn-1' ? 9 : actor === 'attn-0' ? 1 : 5), link: { latencyMs: 0.05, gbps: 5, jitterMs: 2 } } }, (e) =>
      assertMatchesReference(e, model, prompts),
    ));
  test('every ready layer in one expert call, slow expert ranks: fewer device calls, results stay exact', async () => {
    // Expert ops far slower than attention's: dispatches of several layers wait at once.
    const sim = { seed: 5, deviceCost: (_op: unknown, actor: string) => (actor.startsWith('expert') ? 6 : 1), link: { latencyMs: 0.05, gbps: 5, jitterMs: 1 } };
    const expertCalls = (grouped: boolean) =>
      withEngine({ model, host: 'sim', ...asap({ asap: { microBatchTokens: 8, groupLayers: grouped } }), sim }, async (e) => {
        await assertMatchesReference(e, model, prompts);
        const stats = await e.stats();
        return stats.ranks.filter((r) => r.rank.startsWith('expert')).reduce((n, r) => n + r.steps, 0);
      });
    const apart = await expertCalls(false);
    const grouped = await expertCalls(true);
    assert.ok(grouped < apart, `grouped layers: ${grouped} expert device calls, one layer per call: ${apart}`);
  });
  test('colocated, seed 7', () =>
    withEngine(
      { model, host: 'sim', engine: 'asap', ranks: 3, asap: { placement: 'colocated', microBatchTokens: 8 }, sim: { seed: 7, link: { latencyMs: 0.05, gbps: 5, jitterMs: 2 } } },
      (e) => assertMatchesReference(e, model, prompts),
    ));
});
