import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstValueFrom } from 'rxjs';
import { Arena, Tensor, createRing, ringReceiver, ringSender, startSimHost } from '@asap/runtime';

test('Tensor.zeros and an Arena too large for memory say what was asked for, and how much', () => {
  for (const [make, who] of [
    [() => Tensor.zeros([1 << 20, 1 << 20]), /Tensor\.zeros\(f32 \[1048576, 1048576\]\): cannot allocate 4398046511104 bytes \(4096\.00 GiB; .* GiB of system memory free\)/],
    [() => new Arena({ name: 'huge', bytes: 2 ** 42 }), /arena "huge": cannot allocate 4398046511104 bytes/],
    [() => Tensor.zeros([2 ** 30, 2 ** 30, 2 ** 30]), /shape \[1073741824, 1073741824, 1073741824\] has more elements than can be addressed/],
  ] as const) {
    assert.throws(make, (e: unknown) => e instanceof RangeError && who.test(e.message));
  }
});

test('a tensor made by a second copy of the runtime module is still a Tensor (a brand, not a class identity)', async () => {
  // The same file under another URL is another module instance, with its own Tensor class.
  const copy = (await import(new URL('../src/tensor/tensor.ts?second-copy', import.meta.url).href)) as typeof import('../src/tensor/tensor.ts');
  assert.notEqual(copy.Tensor, Tensor);
  const foreign = copy.Tensor.fromF32([1, 2, 3], [3]);
  assert.ok(foreign instanceof Tensor);
  assert.ok(!({ shape: [3], dtype: 'f32' } instanceof Tensor), 'a look-alike object is not a tensor');

  const ring = createRing('brand', 4096);
  const got = firstValueFrom(ringReceiver(ring).inbox$);
  await ringSender(ring).send({ kind: 't', tensors: [foreign] });
  assert.deepEqual([...(await got).tensors![0].toF32()], [1, 2, 3]);

  const host = await startSimHost({ actors: [{ id: 'e', module: new URL('./actors/echo.ts', import.meta.url) }] });
  try {
    const pong = firstValueFrom(host.inboxFrom('e'));
    await host.send('e', { kind: 'ping', tensors: [foreign] });
    assert.deepEqual([...(await pong).tensors![0].toF32()], [1, 2, 3]);
  } finally {
    await host.shutdown();
  }
});

test('arena waiters are served in arrival order: a large request is not starved by later small ones', async () => {
  const arena = new Arena({ name: 'fifo', bytes: 64 * 4 });
  const held = [arena.alloc([16]), arena.alloc([16]), arena.alloc([16]), arena.alloc([16])];
  const order: string[] = [];
  const large = arena.allocWhenFree([48]).then((t) => (order.push('large'), t));
  const small = arena.allocWhenFree([16]).then((t) => (order.push('small'), t));
  arena.release(held[0]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, [], 'the small request waits behind the large one although it would fit');
  arena.release(held[1]);
  arena.release(held[2]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, ['large']);
  arena.release(held[3]);
  await small;
  assert.deepEqual(order, ['large', 'small']);
  arena.release(await large);
  arena.release(await small);
  assert.equal(arena.used, 0);
});

test('an arena waiter is cancelled by its AbortSignal, leaves the queue, and lets the next one through', async () => {
  const arena = new Arena({ name: 'cancel', bytes: 64 * 2 });
  const a = arena.alloc([16]);
  arena.alloc([16]);
  const controller = new AbortController();
  const big = arena.allocWhenFree([32], 'f32', { signal: controller.signal });
  const small = arena.allocWhenFree([16]);
  arena.release(a);
  assert.equal(arena.waiting, 2);
  controller.abort(new Error('request cancelled'));
  await assert.rejects(big, /request cancelled/);
  const t = await small;
  assert.ok(arena.owns(t), 'with the head gone, the next waiter gets the freed block');
  assert.equal(arena.waiting, 0);
  await assert.rejects(arena.allocWhenFree([1], 'f32', { signal: AbortSignal.abort(new Error('already')) }), /already/);
});

test('two receivers sharing one arena cannot deadlock each holding half a message (all or nothing)', async () => {
  const arena = new Arena({ name: 'shared', bytes: 64 * 2 });
  const blocker = arena.alloc([32]);
  const rings = [createRing('r0', 4096), createRing('r1', 4096)];
  const got: number[] = [];
  const receivers = rings.map((ring) => ringReceiver(ring, { arena }));
  for (const receiver of receivers) {
    receiver.inbox$.subscribe((m) => {
      got.push(m.meta as number);
      // The consumer is done with the message at once: its memory goes back for the other receiver.
      for (const t of m.tensors ?? []) arena.release(t);
    });
  }
  await Promise.all(rings.map((ring, i) => ringSender(ring).send({ kind: 'm', meta: i, tensors: [Tensor.zeros([16]), Tensor.zeros([16])] })));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(got, [], 'both receivers wait for memory');
  arena.release(blocker);
  const deadline = Date.now() + 2000;
  while (got.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  for (const receiver of receivers) receiver.close();
  assert.deepEqual([...got].sort(), [0, 1], 'each message landed in turn');
  assert.equal(arena.used, 0);
});
