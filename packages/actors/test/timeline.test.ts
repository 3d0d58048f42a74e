// A rank's timeline: compute spans are what the device ran, not what waited for it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActorContext, DeviceOp } from '@asap/runtime';
import { type SpanDetail, Timeline } from '../src/ranks/timeline.ts';

/** A context whose device runs ops one at a time in submission order, as the sim host's does; `finishNext` ends the oldest. */
function fifoDeviceContext() {
  let clock = 0;
  const queue: Array<{ end: number; resolve: () => void }> = [];
  let freeAt = 0;
  const spans: SpanDetail[] = [];
  const ctx = {
    id: 'attn-0',
    host: 'sim',
    now: () => clock,
    log: (event: string, detail: unknown) => event === 'span' && spans.push(detail as SpanDetail),
    device: {
      run<T>(op: DeviceOp, compute: () => T): Promise<T> {
        const end = Math.max(clock, freeAt) + (op.flops ?? 0);
        freeAt = end;
        return new Promise<T>((resolve) => queue.push({ end, resolve: () => resolve(compute()) }));
      },
    },
  } as unknown as ActorContext;
  return {
    ctx,
    spans,
    at: (ms: number) => (clock = ms),
    finishNext: async () => {
      const op = queue.shift() as { end: number; resolve: () => void };
      clock = op.end;
      op.resolve();
      await new Promise((r) => setImmediate(r));
    },
  };
}

test('an op submitted while another runs counts from when it started: compute is the device busy time', async () => {
  const device = fifoDeviceContext();
  const timeline = new Timeline(device.ctx, true);
  // Op A (5 ms) at t = 0; op B (3 ms) submitted at t = 1 runs 5..8.
  const a = timeline.compute({ name: 'attention', flops: 5 }, () => 'a');
  device.at(1);
  const b = timeline.compute({ name: 'expert-ffn', flops: 3 }, () => 'b');
  await device.finishNext();
  await device.finishNext();
  assert.deepEqual(await Promise.all([a, b]), ['a', 'b']);
  assert.equal(timeline.summary.computeMs, 8, 'busy 0..8, not 5 + 7 counted from submission');
  assert.deepEqual(device.spans.map((s) => [s.name, s.start, s.end]), [['attention', 0, 5], ['expert-ffn', 5, 8]]);
  // After an idle gap, an op counts from its submission again.
  device.at(20);
  const c = timeline.compute({ name: 'combine', flops: 2 }, () => 'c');
  await device.finishNext();
  assert.equal(await c, 'c');
  assert.equal(timeline.summary.computeMs, 10);
});
