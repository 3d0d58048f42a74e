// Expert placement: every routed expert on some rank; with more ranks than experts, redundant copies of
// the hottest so that no rank is left without an expert, and never two copies on one rank.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placeExperts } from '../src/ranks/expert-placement.ts';
import type { ModelConfig } from '../src/model/config/model-config.ts';

const config = { numExperts: 8, layerKinds: ['dense', 'moe'] } as unknown as ModelConfig;
const counts = [[], [50, 10, 400, 5, 5, 90, 20, 1]];

test('as many or fewer ranks than experts: one copy each, the replicas on the hottest', () => {
  const holders = placeExperts(config, 4, { counts, replicas: 1 })[1];
  assert.equal(holders[2].length, 2, 'the hottest expert (2) has a replica');
  assert.ok(holders.every((rs, e) => rs.length === (e === 2 ? 2 : 1)));
  assert.deepEqual([...new Set(holders.flat())].sort(), [0, 1, 2, 3]);
});

test('more ranks than experts: redundant copies, hottest first, one per rank at most, every rank used', () => {
  const holders = placeExperts(config, 19, { counts })[1];
  assert.equal(holders.flat().length, 19, 'one copy per rank');
  assert.deepEqual([...new Set(holders.flat())].sort((a, b) => a - b), Array.from({ length: 19 }, (_, r) => r));
  assert.ok(holders.every((rs) => new Set(rs).size === rs.length), 'no rank holds two copies of one expert');
  // 8 experts, 19 copies: two extra rounds for the hottest three (2, 5, 0), one for the rest.
  const copies = holders.map((rs) => rs.length);
  assert.deepEqual(copies, [3, 2, 3, 2, 2, 3, 2, 2]);
  assert.deepEqual(placeExperts(config, 1)[1], Array.from({ length: 8 }, () => [0]));
});
