import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstValueFrom, take, toArray } from 'rxjs';
import { ActorStoppedError, type DeviceOp, Tensor, startSimHost, startThreadsHost } from '../src/index.ts';
import { VirtualClock } from '../src/host/sim/clock.ts';
import { DevicesBusy, SimDevice } from '../src/host/sim/device.ts';

const actorUrl = (name: string): URL => new URL(`./actors/${name}.ts`, import.meta.url);

test('sim: a setup that waits for real I/O starts (only a wall-clock timeout fails a start)', async () => {
  const host = await startSimHost({ actors: [{ id: 'io', module: actorUrl('io-setup') }] });
  try {
    const stats = (await host.stats('io')).custom as { sourceBytes: number };
    assert.ok(stats.sourceBytes > 0);
  } finally {
    await host.shutdown();
  }
});

test('sim: a setup that never finishes fails the start after startTimeoutMs', { timeout: 30_000 }, async () => {
  await assert.rejects(
    startSimHost({ actors: [{ id: 'never', module: actorUrl('never-starts') }], startTimeoutMs: 100 }),
    /did not start within 100 ms/,
  );
});

test('sim: shutdown fails sends still waiting for ring space, and idle() resolves after it', { timeout: 30_000 }, async () => {
  const host = await startSimHost({ actors: [{ id: 'b', module: actorUrl('bounded'), maxInFlight: 1 }], ringBytes: 4096 });
  const sends = Array.from({ length: 10 }, (_, i) => host.send('b', { kind: 'hold', meta: i, tensors: [Tensor.zeros([256])] }));
  await host.idle();
  await host.shutdown();
  const settled = await Promise.allSettled(sends);
  const rejected = settled.filter((s) => s.status === 'rejected');
  assert.ok(rejected.length > 0, 'some sends were still waiting for ring space');
  for (const r of rejected) assert.ok((r as PromiseRejectedResult).reason instanceof ActorStoppedError);
  await host.idle();
});

test('sim: a device op that has not ended fails when the device fails (as at shutdown)', async () => {
  const clock = new VirtualClock((error) => assert.fail(String(error)));
  const device = new SimDevice('a', clock, () => 1000, () => {});
  const op = device.run({ name: 'long' }, () => 1);
  device.fail(new ActorStoppedError('a', 'the host shut down'));
  clock.stop();
  await assert.rejects(op, ActorStoppedError);
  await assert.rejects(device.run({ name: 'later' }, () => 1), ActorStoppedError);
});

test('sim: the cost hears how long every device had sat idle before an op (0 while any is busy)', async () => {
  const clock = new VirtualClock((error) => assert.fail(String(error)));
  const idles: string[] = [];
  const busy = new DevicesBusy();
  const cost = (op: DeviceOp, actor: string, idleMs?: number): number => {
    idles.push(`${actor} ${op.name} ${idleMs}`);
    return op.name === 'long' ? 20 : 2;
  };
  const a = new SimDevice('a', clock, cost, () => {}, () => false, busy);
  const b = new SimDevice('b', clock, cost, () => {}, () => false, busy);
  await Promise.all([a.run({ name: 'first' }, () => 1), a.run({ name: 'queued' }, () => 1)]);
  const long = b.run({ name: 'long' }, () => 1);
  await new Promise<void>((resolve) => clock.at(10, resolve));
  await a.run({ name: 'beside' }, () => 1);
  await long;
  await new Promise<void>((resolve) => clock.at(40, resolve));
  await b.run({ name: 'after a pause' }, () => 1);
  // a's ops end at 2 and 4; b's long op runs 4–24, so a's at 10 pays nothing; b's at 40 follows 16 ms of rest.
  assert.deepEqual(idles, ['a first 0', 'a queued 0', 'b long 0', 'a beside 0', 'b after a pause 16']);
  clock.stop();
});

test('both hosts deliver numeric meta exactly: NaN, −0 and ±Infinity included', { timeout: 60_000 }, async () => {
  const metas = [Number.NaN, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5, { a: [1, 'x'] }];
  for (const start of [startSimHost, startThreadsHost]) {
    const host = await start({ actors: [{ id: 'e', module: actorUrl('meta-echo') }] });
    try {
      const got = firstValueFrom(host.inboxFrom('e').pipe(take(metas.length), toArray()));
      for (const meta of metas) await host.send('e', { kind: 'm', meta });
      const echoed = (await got).map((m) => m.meta);
      echoed.forEach((meta, i) => {
        if (typeof metas[i] === 'number') assert.ok(Object.is(meta, metas[i]), `${host.kind}: sent ${String(metas[i])}, got ${String(meta)}`);
        else assert.deepEqual(meta, metas[i]);
      });
    } finally {
      await host.shutdown();
    }
  }
});
