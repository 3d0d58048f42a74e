// The configuration searches at cluster scale: which layouts each engine's sweep tries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterFamily } from '../src/run/cluster-families.ts';
import { ASAP, SYNC, withKnobs } from '../src/run/engines.ts';

test('asap at 16 ranks: colocated and five attention/expert splits in eighths, each at six micro-batch settings with and without convoys, every optimization on', () => {
  const candidates = clusterFamily(ASAP).candidates(16, 'full');
  const layouts = [...new Set(candidates.map((k) => `${k.placement} ${k.attentionRanks}+${k.expertRanks}`))];
  assert.deepEqual(layouts, ['colocated 16+16', 'disaggregated 4+12', 'disaggregated 6+10', 'disaggregated 8+8', 'disaggregated 10+6', 'disaggregated 12+4']);
  assert.equal(candidates.length, 72);
  const batching = new Set(candidates.map((k) => `${k.microBatchTokens}×${k.microBatches}/${k.convoyWaitMs}`));
  assert.deepEqual([...batching], ['1024×2/0', '1024×2/5', '2048×2/0', '2048×2/5', '4096×2/0', '4096×2/5', '1024×3/0', '1024×3/5', '2048×3/0', '2048×3/5', '1024×4/0', '1024×4/5']);
  assert.ok(candidates.every((k) => k.expertBatching && k.expertLoadBalancing && k.microBatchPipelining && k.loadAwarePlacement));
});

test('asap at 2 ranks: the splits collapse to one (each role needs a rank); sync: four budgets with and without two-batch overlap', () => {
  const layouts = new Set(clusterFamily(ASAP).candidates(2, 'full').map((k) => `${k.attentionRanks}+${k.expertRanks}`));
  assert.deepEqual([...layouts], ['2+2', '1+1']);
  assert.equal(clusterFamily(SYNC).candidates(384, 'full').length, 8);
});

test('--knobs: a knob the engine does not have is refused by name, not silently ignored', () => {
  assert.equal(withKnobs(clusterFamily(ASAP), { convoyWaitMs: 2 }).convoyWaitMs, 2);
  assert.throws(() => withKnobs(ASAP, { convoyWait: 2 }), /"convoyWait" is not a knob of asap \(its knobs: .*convoyWaitMs/);
  assert.throws(() => withKnobs(SYNC, { microBatchTokens: 512 }), /"microBatchTokens" is not a knob of sync/);
});

test('asap refines the split from the measured load: the splits around the balance of its roles\' kernel time, at each batching measured', () => {
  const usage = (rank: string, computeMs: number) => ({ rank, computeMs });
  const run = (knobs: Record<string, unknown>, ranks: Array<{ rank: string; computeMs: number }>) => ({ knobs, summary: { ranks } }) as never;
  const colocated = run({ placement: 'colocated' }, [usage('rank-0', 1)]);
  // 6 + 10 measured 6 × 540 ms of attention and 10 × 475 ms of experts: 3,240 / 7,990 of 16 ranks is 6.49.
  const split = run({ placement: 'disaggregated', attentionRanks: 6, expertRanks: 10, microBatchTokens: 2048 }, [
    ...Array.from({ length: 6 }, (_, i) => usage(`attn-${i}`, 540)),
    ...Array.from({ length: 10 }, (_, i) => usage(`expert-${i}`, 475)),
  ]);
  // 8 + 8 at 4K: 8 × 300 ms of attention, 8 × 500 ms of experts: 6 of 16 ranks exactly. 8 + 8 at 2K again: its
  // batching was balanced from the better run above.
  const wider = run({ placement: 'disaggregated', attentionRanks: 8, expertRanks: 8, microBatchTokens: 4096 }, [
    ...Array.from({ length: 8 }, (_, i) => usage(`attn-${i}`, 300)),
    ...Array.from({ length: 8 }, (_, i) => usage(`expert-${i}`, 500)),
  ]);
  const again = run({ placement: 'disaggregated', attentionRanks: 8, expertRanks: 8, microBatchTokens: 2048 }, [usage('attn-0', 1), usage('expert-0', 100)]);
  const refine = clusterFamily(ASAP).refine;
  assert.ok(refine);
  assert.deepEqual(
    refine(16, [colocated, split, wider, again]).map((k) => [k.attentionRanks, k.expertRanks, k.microBatchTokens]),
    [[6, 10, 2048], [7, 9, 2048], [6, 10, 4096]],
    'each batching balanced once, from its best run',
  );
  assert.deepEqual(refine(16, [colocated]), [], 'no split measured: nothing to balance');
});
