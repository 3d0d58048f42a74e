import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstValueFrom, take, toArray } from 'rxjs';
import { type Host, Tensor, startSimHost, startThreadsHost } from '../src/index.ts';

const BOUNDED = new URL('./actors/bounded.ts', import.meta.url);

interface BoundedStats {
  readonly maxActive: number;
  readonly order: number[];
}

async function handlersStartInOrderWithinTheLimit(host: Host): Promise<void> {
  try {
    const replies = firstValueFrom(host.inboxFrom('b').pipe(take(20), toArray()));
    const sends = Array.from({ length: 20 }, (_, i) => host.send('b', { kind: 'work', meta: i, tensors: [Tensor.zeros([256])] }));
    await Promise.all(sends);
    const got = await replies;
    assert.deepEqual(got.map((m) => m.meta).sort((a, b) => (a as number) - (b as number)), Array.from({ length: 20 }, (_, i) => i));
    const stats = (await host.stats('b')).custom as BoundedStats;
    assert.deepEqual(stats.order, Array.from({ length: 20 }, (_, i) => i));
    assert.ok(stats.maxActive <= 2, `at most maxInFlight = 2 handlers at once, saw ${stats.maxActive}`);
  } finally {
    await host.shutdown();
  }
}

const actors = [{ id: 'b', module: BOUNDED, maxInFlight: 2 }];

test('sim: an actor runs at most maxInFlight handlers at once, starting them in arrival order', async () => {
  await handlersStartInOrderWithinTheLimit(await startSimHost({ actors, ringBytes: 4096 }));
});

test('threads: an actor runs at most maxInFlight handlers at once, starting them in arrival order', async () => {
  await handlersStartInOrderWithinTheLimit(await startThreadsHost({ actors, ringBytes: 4096 }));
});

test('sim: an actor at its limit leaves messages in the ring, so the sender waits', async () => {
  const host = await startSimHost({ actors, ringBytes: 4096 });
  try {
    let accepted = 0;
    Array.from({ length: 20 }, (_, i) =>
      host.send('b', { kind: 'hold', meta: i, tensors: [Tensor.zeros([256])] }).then(
        () => void accepted++,
        () => {},
      ),
    );
    await host.idle();
    const stats = (await host.stats('b')).custom as BoundedStats;
    assert.deepEqual(stats.order, [0, 1]);
    // Two handlers hold their messages and the 4 KiB ring holds at most three more 1 KiB records.
    assert.ok(accepted <= 5, `the sender waits once the ring is full, yet ${accepted} of 20 sends went through`);
  } finally {
    await host.shutdown();
  }
});

test('maxInFlight must be a positive integer', async () => {
  await assert.rejects(startSimHost({ actors: [{ id: 'b', module: BOUNDED, maxInFlight: 0 }] }), /maxInFlight must be a positive integer/);
});
