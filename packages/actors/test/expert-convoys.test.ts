// Convoys at an expert rank: who is expected back (served together, or at the same layer within the bound),
// when a layer may be served, when holding is allowed, and
// that records of convoys nobody returns to are forgotten (memory stays bounded over a long run).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpertConvoys } from '../src/ranks/expert-convoys.ts';

/** A dispatch source (attention rank `rank`, micro-batch `batch`) as the expert rank keys it: one number. */
const ranks = new Map<string, number>();
function src(rank: string, batch: number): number {
  if (!ranks.has(rank)) ranks.set(rank, ranks.size);
  return batch * 65536 + (ranks.get(rank) as number);
}

/** A rank that has been fully busy for a while (holding needs load). */
function busyConvoys(waitMs: number): ExpertConvoys {
  const c = new ExpertConvoys(waitMs);
  c.busy(0, 100);
  return c;
}

test('dispatches served together are expected back together; the layer is ready once all are back', () => {
  const c = busyConvoys(5);
  c.served([src('a', 1), src('b', 1), src('c', 1)], 3, false, 100);
  const a = c.arrive(src('a', 1), 101);
  assert.ok(a >= 0);
  assert.equal(c.ready(a, 101), false, 'b and c are still away');
  assert.equal(c.readyAt(a), 106, 'the bound runs from the first member back');
  assert.equal(c.arrive(src('b', 1), 102), a);
  assert.equal(c.ready(a, 102), false);
  assert.equal(c.arrive(src('c', 1), 103), a);
  assert.equal(c.ready(a, 103), true, 'all back');
  assert.equal(c.readyAt(a), -Infinity);
});

test('a late member does not hold the batch past the bound', () => {
  const c = busyConvoys(5);
  c.served([src('a', 1), src('b', 1)], 3, false, 100);
  const a = c.arrive(src('a', 1), 101);
  assert.equal(c.ready(a, 105.9), false);
  assert.equal(c.ready(a, 106), true);
});

test('a dispatch served alone comes back to a convoy of one (ready at once); a new source and the last layer have none', () => {
  const c = busyConvoys(5);
  assert.equal(c.arrive(src('x', 1), 0), -1, 'never served here');
  assert.equal(c.ready(-1, 0), true);
  c.served([src('a', 1)], 3, false, 100);
  const a = c.arrive(src('a', 1), 101);
  assert.ok(a >= 0);
  assert.equal(c.ready(a, 101), true, 'nobody else is away');
  c.served([src('a', 2), src('b', 2)], 60, true, 100);
  assert.equal(c.arrive(src('a', 2), 101), -1, 'nothing comes back after the last layer');
});

test('a dispatch served at the same layer within the bound joins the convoy: the one ahead waits for it at the next layer', () => {
  const c = busyConvoys(5);
  c.served([src('a', 1)], 3, false, 100);
  c.served([src('b', 1)], 3, false, 103); // a batch of its own, 3 ms later
  c.served([src('z', 1)], 4, false, 103); // another layer: another convoy
  const a = c.arrive(src('a', 1), 104);
  assert.equal(c.ready(a, 104), false, 'b, served 3 ms after a, is still away');
  assert.equal(c.arrive(src('b', 1), 106), a);
  assert.equal(c.ready(a, 106), true);
  assert.notEqual(c.arrive(src('z', 1), 106), a);
  // Beyond the bound from the convoy's first, or once one of it is back, a dispatch starts a new one.
  c.served([src('d', 1)], 7, false, 200);
  c.served([src('e', 1)], 7, false, 205.5);
  assert.notEqual(c.arrive(src('e', 1), 207), c.arrive(src('d', 1), 207));
  c.served([src('f', 1)], 8, false, 300);
  const f = c.arrive(src('f', 1), 301);
  c.served([src('g', 1)], 8, false, 302);
  assert.notEqual(c.arrive(src('g', 1), 303), f, 'f was back already: g cannot hold it');
});

test('holding needs a busy rank and a deadline that affords the wait at every layer left', () => {
  const idle = new ExpertConvoys(5);
  assert.equal(idle.holding(0, Infinity, 10), false, 'no load');
  const c = busyConvoys(5);
  c.served([src('a', 1), src('b', 1)], 3, false, 100);
  c.arrive(src('a', 1), 102); // a layer takes 2 ms here
  assert.equal(c.holding(102, Infinity, 58), true, 'no deadline');
  assert.equal(c.holding(102, 102 + 10 * 7, 10), true, '10 layers × (2 + 5) ms fit');
  assert.equal(c.holding(102, 102 + 10 * 7 - 1, 10), false, 'they do not');
  assert.equal(c.holding(102 + 400, Infinity, 10), false, 'the load decayed');
});

test('convoys nobody comes back to are forgotten', () => {
  const c = busyConvoys(5);
  for (let i = 0; i < 100; i++) c.served([src('a', i), src('b', i)], i % 61, false, i);
  assert.ok(c.size > 0);
  c.served([src('late', 1), src('late', 2)], 3, false, 10_000);
  assert.equal(c.size, 3, 'only the newest convoy and its two members are left');
  assert.equal(c.arrive(src('a', 5), 10_001), -1);
});
