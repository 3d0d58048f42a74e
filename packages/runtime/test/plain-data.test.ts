// copyPlainData must give exactly what a JSON round trip gives (what a ring receiver reads), or decline.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../src/index.ts';
import { NOT_PLAIN, clonePlainData, copyPlainData, plainJsonBytes } from '../src/channel/plain-data.ts';

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

test('clonePlainData equals structuredClone on random plain data, keeping −0, NaN, undefined and holes', () => {
  const random = SeededRandom.forName(4, 'plain-data-clone');
  const next = (): number => random.next();
  for (let i = 0; i < 2000; i++) {
    const value = randomValue(next, 0);
    const copy = clonePlainData(value);
    assert.deepStrictEqual(copy, structuredClone(value));
    if (typeof value === 'object' && value !== null) assert.notEqual(copy, value, 'a copy, not the same object');
  }
  const odd = { z: -0, n: Number.NaN, u: undefined, holes: [1, , 3], nested: [[-0], { i: Number.POSITIVE_INFINITY }] };
  assert.deepStrictEqual(clonePlainData(odd), structuredClone(odd));
  assert.ok(Object.is(clonePlainData(-0), -0));
  assert.equal(1 in (clonePlainData(odd).holes as unknown[]), false, 'a hole stays a hole');
});

test('clonePlainData leaves what is not plain data to structuredClone', () => {
  class Point {
    x = 1;
  }
  const values: unknown[] = [new Date(0), new Map([[1, 2]]), new Float32Array([1, 2]), { p: new Point() }, [new Set([1])]];
  for (const value of values) assert.deepStrictEqual(clonePlainData(value), structuredClone(value));
  assert.throws(() => clonePlainData({ f: () => 1 }), { name: 'DataCloneError' });
});

test('plainJsonBytes equals the UTF-8 length of JSON.stringify on random plain data, and declines what copyPlainData declines', () => {
  const random = SeededRandom.forName(5, 'plain-json-bytes');
  const next = (): number => random.next();
  const numbers = [0.1, -2.5e-7, 1e21, 999999999999999900000, -1e21, 2 ** 53 + 2, 123456789, -10, 9, 10, 99, 100, 1 / 3, 5e-324];
  const strings = ['a"b', 'back\\slash', 'tab\t', '\u0000', '\u007f', 'ü', '€', '😀', '\udc00', 'line\nbreak', '~ '];
  for (let i = 0; i < 3000; i++) {
    const roll = next();
    const value =
      roll < 0.2 ? numbers[Math.floor(next() * numbers.length)] : roll < 0.4 ? { [strings[Math.floor(next() * strings.length)]]: [strings[Math.floor(next() * strings.length)], numbers[Math.floor(next() * numbers.length)]] } : randomValue(next, 0);
    assert.equal(plainJsonBytes(value), Buffer.byteLength(JSON.stringify(value), 'utf8'), JSON.stringify(value));
  }
  const declined: unknown[] = [{ a: undefined }, [undefined], [1, , 3], Number.NaN, { f: () => 1 }, new Date(0), { toJSON: () => 'x' }, JSON.parse('{"__proto__": 1}'), 1n];
  for (const value of declined) assert.equal(plainJsonBytes(value), undefined);
});
