// Rows of a cancelled request queued at an expert rank are left out of its batch (not computed), and the
// reply still answers every row its sender sent, in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '@asap/runtime';
import { keepRows, restoreRows } from '../src/ranks/dispatch-rows.ts';

test('keepRows drops the rows of cancelled requests, recounts the groups; restoreRows puts outputs back in place', () => {
  const width = 3;
  // 6 rows: expert 2 has rows 0-2, expert 5 rows 3-5; requests 7 (rows 0-1), 8 (rows 2-4), 7 again (row 5).
  const rows = Tensor.fromF32(Array.from({ length: 6 * width }, (_, i) => i), [6, width]);
  const groups = [[2, 3], [5, 3]] as const;
  const runs = [[7, 2], [8, 3], [7, 1]] as const;
  const { rows: kept, kept: at } = keepRows({ groups, rows }, runs, new Set([8]));
  assert.deepEqual([...at], [0, 1, 5]);
  assert.deepEqual(kept.groups, [[2, 2], [5, 1]]);
  assert.deepEqual([...kept.rows.toF32()], [0, 1, 2, 3, 4, 5, 15, 16, 17]);
  const outputs = Tensor.fromF32(kept.rows.toF32().map((v) => v * 10), [3, width]);
  const full = restoreRows(outputs, at, 6);
  assert.equal(full.rowCount, 6);
  assert.deepEqual([...full.toF32()], [0, 10, 20, 30, 40, 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 150, 160, 170]);
  // Every request cancelled: nothing is kept.
  assert.equal(keepRows({ groups, rows }, runs, new Set([7, 8])).rows.rows.rowCount, 0);
  assert.throws(() => keepRows({ groups, rows }, [[7, 2]], new Set()), /runs cover 2 rows of 6/);
});
