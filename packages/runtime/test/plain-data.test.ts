// copyPlainData must give exactly what a JSON round trip gives (what a ring receiver reads), or decline.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../src/index.ts';
import { NOT_PLAIN, copyPlainData } from '../src/channel/plain-data.ts';

function randomValue(next: () => number, depth: number): unknown {
  const roll = next();
  if (depth > 3 || roll < 0.4) {
    const leaves = ['x', 'é😀', '\ud800', '', 0, -0, 1.5, -7, 1e300, true, false, null];
    return leaves[Math.floor(next() * leaves.length)];
  }
  if (roll < 0.7) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const keys = ['a', 'b', '2', '10', 'constructor', 'hasOwnProperty', 'z y'];
  const value: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 4); i > 0; i--) value[keys[Math.floor(next() * keys.length)]] = randomValue(next, depth + 1);
  return value;
}

test('copyPlainData equals a JSON round trip on random plain data (key order included)', () => {
  const random = SeededRandom.forName(3, 'plain-data');
  const next = (): number => random.next();
  for (let i = 0; i < 2000; i++) {
    const value = randomValue(next, 0);
    const copy = copyPlainData(value);
    assert.notEqual(copy, NOT_PLAIN);
    assert.equal(JSON.stringify(copy), JSON.stringify(value));
    assert.deepEqual(copy, JSON.parse(JSON.stringify(value)));
    if (typeof value === 'object' && value !== null) assert.notEqual(copy, value, 'a copy, not the same object');
  }
  assert.ok(Object.is(copyPlainData(-0), 0), '−0 becomes 0, as through JSON');
});

test('copyPlainData declines what JSON would change or that is not plain data', () => {
  const withProto = JSON.parse('{"__proto__": {"x": 1}}') as unknown;
  class Point {
    x = 1;
  }
  const deep: unknown[] = [];
  let cursor = deep;
  for (let i = 0; i < 40; i++) cursor.push((cursor = []));
  const sparse = [1, , 3];
  const cases: unknown[] = [
    { a: undefined },
    [undefined],
    { f: () => 1 },
    Number.NaN,
    { n: Number.POSITIVE_INFINITY },
    new Date(0),
    { toJSON: () => 'x' },
    new Point(),
    new Map(),
    withProto,
    deep,
    sparse,
    Symbol('s'),
  ];
  for (const value of cases) assert.equal(copyPlainData(value), NOT_PLAIN, `declines ${String(JSON.stringify(value))}`);
  assert.deepEqual(copyPlainData(Object.assign(Object.create(null) as object, { a: [1] })), { a: [1] });
});
