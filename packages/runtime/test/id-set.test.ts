// ActorIdSet (a runner's destinations and peers) must answer as a Set of the same ids would.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActorIdSet, ActorIndex } from '../src/actor/id-set.ts';

test('actor id sets over one shared index answer as Sets, ids numbered later included', () => {
  const index = new ActorIndex();
  const ids = Array.from({ length: 70 }, (_, i) => `rank-${i}`);
  const sets = [ids.slice(0, 5), ids.filter((_, i) => i % 3 === 0), [], ['driver', ...ids.slice(60)]];
  const made = sets.map((members) => new ActorIdSet(index, members));
  const later = new ActorIdSet(index, ['late-0', 'late-1']);
  const probes = [...ids, 'driver', 'late-0', 'late-1', 'never-seen', ''];
  sets.forEach((members, i) => {
    const expected = new Set(members);
    for (const id of probes) assert.equal(made[i].has(id), expected.has(id), `set ${i}, ${id}`);
  });
  for (const id of probes) assert.equal(later.has(id), id === 'late-0' || id === 'late-1', id);
});
