// Expert placement: every routed expert on some rank; redundant copies go where the load per copy is
// highest (EPLB), with more ranks than experts enough of them that no rank is left without an expert, and
// never two copies on one rank.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placeExperts } from '../src/ranks/expert-placement.ts';
import type { ModelConfig } from '../src/model/config/model-config.ts';

const config = { numExperts: 8, layerKinds: ['dense', 'moe'] } as unknown as ModelConfig;
const counts = [[], [50, 10, 400, 5, 5, 90, 20, 1]];

test('as many or fewer ranks than experts: one copy each, the redundant copy on the hottest', () => {
  const holders = placeExperts(config, 4, { counts, redundant: 1 })[1];
  assert.equal(holders[2].length, 2, 'the hottest expert (2) has a second copy');
  assert.ok(holders.every((rs, e) => rs.length === (e === 2 ? 2 : 1)));
  assert.deepEqual([...new Set(holders.flat())].sort(), [0, 1, 2, 3]);
});

test('more ranks than experts: redundant copies, hottest first, one per rank at most, every rank used', () => {
  const holders = placeExperts(config, 19, { counts })[1];
  assert.equal(holders.flat().length, 19, 'one copy per rank');
  assert.deepEqual([...new Set(holders.flat())].sort((a, b) => a - b), Array.from({ length: 19 }, (_, r) => r));
  assert.ok(holders.every((rs) => new Set(rs).size === rs.length), 'no rank holds two copies of one expert');
  // 8 experts, 19 copies, each extra one to the most load per copy (loads are counts + 1): expert 2 (401)
  // takes eight, 5 (91) two, 0 (51) one; the hottest copy then carries 401 / 9 ≈ 44.6, not 401 / 3 as an
  // even round of copies over the hottest would leave it.
  const copies = holders.map((rs) => rs.length);
  assert.deepEqual(copies, [2, 1, 9, 1, 1, 3, 1, 1]);
  assert.deepEqual(placeExperts(config, 1)[1], Array.from({ length: 8 }, () => [0]));
});

test('uniform load (no counts): the extra copies go to the lowest indices, one round at a time', () => {
  const copies = placeExperts(config, 12)[1].map((rs) => rs.length);
  assert.deepEqual(copies, [2, 2, 2, 2, 1, 1, 1, 1]);
});

test('redundant copies with counts: the ranks carry near-equal load', () => {
  const holders = placeExperts(config, 4, { counts, redundant: 8 })[1];
  const load = [0, 0, 0, 0];
  holders.forEach((rs, e) => rs.forEach((r) => (load[r] += (counts[1][e] + 1) / rs.length)));
  const mean = load.reduce((a, b) => a + b) / 4;
  assert.ok(Math.max(...load) < 1.25 * mean, `rank loads ${load.map((x) => x.toFixed(1)).join(', ')}`);
  assert.throws(() => placeExperts(config, 4, { redundant: -1 }), /redundant copies must be an integer >= 0/);
});
