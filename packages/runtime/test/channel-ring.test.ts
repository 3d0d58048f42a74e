import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstValueFrom, toArray } from 'rxjs';
import {
  Arena,
  ArenaExhaustedError,
  type ChannelMessage,
  ChannelClosedError,
  MessageTooLargeError,
  Tensor,
  abortRing,
  createRing,
  ringReceiver,
  ringSender,
} from '../src/index.ts';
import { until } from './support/until.ts';

function rows(seed: number, n: number, width: number, dtype: 'f32' | 'bf16' | 'f16' = 'f32'): Tensor {
  return Tensor.fromF32(Array.from({ length: n * width }, (_, i) => seed + i * 0.25), [n, width], dtype);
}

function assertSameTensor(got: Tensor, want: Tensor): void {
  assert.equal(got.dtype, want.dtype);
  assert.deepEqual(got.shape, want.shape);
  assert.deepEqual(Array.from(got.data), Array.from(want.data));
}

test('messages arrive intact and in order through many wrap-arounds', async () => {
  const ring = createRing('wrap', 1000); // rounded to 1024: records of 128–448 bytes wrap at odd places
  const sender = ringSender(ring);
  const receiver = ringReceiver(ring);
  const sent: ChannelMessage[] = [];
  const all = firstValueFrom(receiver.inbox$.pipe(toArray()));
  for (let i = 0; i < 500; i++) {
    const dtype = (['f32', 'bf16', 'f16'] as const)[i % 3];
    const tensors = i % 7 === 0 ? [] : [rows(i, 1 + (i % 5), 16, dtype), rows(-i, 1, 3)];
    const message: ChannelMessage = i % 4 === 0 ? { kind: `k${i}`, tensors } : { kind: 'é✓', meta: { i, s: 'ü'.repeat(i % 9) }, tensors };
    sent.push(message);
    await sender.send(message);
  }
  sender.close();
  const got = await all;
  assert.equal(got.length, sent.length);
  for (let i = 0; i < sent.length; i++) {
    assert.equal(got[i].kind, sent[i].kind);
    assert.deepEqual(got[i].meta, sent[i].meta);
    const want = sent[i].tensors ?? [];
    assert.equal((got[i].tensors ?? []).length, want.length);
    want.forEach((t, j) => assertSameTensor(got[i].tensors![j], t));
  }
});

test('the receiver owns what it gets: later messages reusing the slot do not change it', async () => {
  const ring = createRing('own', 256);
  const sender = ringSender(ring);
  const receiver = ringReceiver(ring);
  const got: ChannelMessage[] = [];
  const done = new Promise<void>((resolve) => receiver.inbox$.subscribe({ next: (m) => got.push(m), complete: resolve }));
  for (let i = 0; i < 20; i++) await sender.send({ kind: 'r', tensors: [rows(i, 2, 8)] });
  sender.close();
  await done;
  got.forEach((m, i) => {
    assert.notEqual(m.tensors![0].buffer, ring.buffer);
    assertSameTensor(m.tensors![0], rows(i, 2, 8));
  });
});

test('a full ring: trySend says false, send waits until the receiver reads', async () => {
  const ring = createRing('full', 512);
  const sender = ringSender(ring);
  const receiver = ringReceiver(ring);
  const message = { kind: 'x', tensors: [rows(1, 1, 16)] }; // 64 header + 64 data = 128 bytes
  let accepted = 0;
  while (sender.trySend(message)) accepted++;
  assert.equal(accepted, 4);
  let sentLate = false;
  const late = sender.send(message).then(() => (sentLate = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(sentLate, false, 'send must wait while the ring is full');
  assert.equal(sender.trySend(message), false, 'trySend may not overtake a waiting send');
  const five = firstValueFrom(receiver.inbox$.pipe(toArray()));
  await late;
  sender.close();
  assert.equal((await five).length, 5);
});

test('a message larger than the ring is an error naming channel, size and capacity', async () => {
  const ring = createRing('small', 256);
  const sender = ringSender(ring);
  const big = { kind: 'big', tensors: [rows(0, 64, 16)] };
  assert.throws(() => sender.trySend(big), (e: unknown) => e instanceof MessageTooLargeError && /"small".*4160 bytes.*256 bytes/.test(e.message));
  await assert.rejects(sender.send(big), MessageTooLargeError);
  assert.equal(sender.trySend({ kind: 'fits' }), true, 'the channel still works');
});

test('closing: sends after close fail, the inbox completes after draining, pending sends fail when the receiver closes', async () => {
  const ring = createRing('close', 256);
  const sender = ringSender(ring);
  const receiver = ringReceiver(ring);
  await sender.send({ kind: 'a' });
  await sender.send({ kind: 'b' });
  sender.close();
  await assert.rejects(sender.send({ kind: 'c' }), (e: unknown) => e instanceof ChannelClosedError && /"close".*sender closed/.test(e.message));
  assert.throws(() => sender.trySend({ kind: 'c' }), ChannelClosedError);
  const got = await firstValueFrom(receiver.inbox$.pipe(toArray()));
  assert.deepEqual(got.map((m) => m.kind), ['a', 'b']);

  const ring2 = createRing('close2', 128);
  const sender2 = ringSender(ring2);
  const receiver2 = ringReceiver(ring2);
  while (sender2.trySend({ kind: 'fill' }));
  const pending = sender2.send({ kind: 'stuck' });
  receiver2.close();
  await assert.rejects(pending, (e: unknown) => e instanceof ChannelClosedError && /receiver closed/.test(e.message));
  await assert.rejects(sender2.send({ kind: 'again' }), ChannelClosedError);
});

test('abortRing fails the sender and errors the inbox after what was sent is delivered', async () => {
  const ring = createRing('abort', 256);
  const sender = ringSender(ring);
  const receiver = ringReceiver(ring);
  await sender.send({ kind: 'before' });
  const got: string[] = [];
  const failed = new Promise<Error>((resolve) => receiver.inbox$.subscribe({ next: (m) => got.push(m.kind), error: resolve }));
  abortRing(ring, 'actor "expert-3" exited with code 1');
  const error = await failed;
  assert.ok(error instanceof ChannelClosedError);
  assert.match(error.message, /"abort".*expert-3/);
  assert.deepEqual(got, ['before']);
  await assert.rejects(sender.send({ kind: 'after' }), /expert-3/);
});

test('a ring has one sender and one receiver', () => {
  const ring = createRing('pair', 256);
  ringSender(ring);
  ringReceiver(ring);
  assert.throws(() => ringSender(ring), /"pair".*already has a sender/);
  assert.throws(() => ringReceiver(ring), /"pair".*already has a receiver/);
  assert.throws(() => createRing('bad', 10), /capacity/);
});

test('with an arena, received tensors live there and an unreleased arena holds the sender back', async () => {
  const ring = createRing('arena', 1024);
  const arena = new Arena({ name: 'inbox', bytes: 4 * 256 });
  const sender = ringSender(ring);
  const receiver = ringReceiver(ring, { arena });
  const got: ChannelMessage[] = [];
  receiver.inbox$.subscribe((m) => got.push(m));
  const message = (i: number): ChannelMessage => ({ kind: 'm', meta: i, tensors: [rows(i, 4, 16)] }); // 256 bytes each
  const sends = Array.from({ length: 12 }, (_, i) => sender.send(message(i)));
  await until(() => got.length === 4);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(got.length, 4, 'the receiver stops at the arena budget');
  assert.ok(got.every((m) => arena.owns(m.tensors![0])));
  for (const m of got.splice(0)) arena.release(m.tensors![0]);
  await until(() => got.length === 4);
  for (const m of got.splice(0)) arena.release(m.tensors![0]);
  await until(() => got.length === 4);
  assertSameTensor(got[3].tensors![0], rows(11, 4, 16));
  await Promise.all(sends);
  const tooBig = createRing('arena-big', 8192);
  const bigReceiver = ringReceiver(tooBig, { arena });
  const failed = new Promise<unknown>((resolve) => bigReceiver.inbox$.subscribe({ error: resolve }));
  await ringSender(tooBig).send({ kind: 'big', tensors: [rows(0, 32, 16)] });
  assert.ok((await failed) instanceof ArenaExhaustedError);
  receiver.close();
});
