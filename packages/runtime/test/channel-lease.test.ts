import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstValueFrom, toArray } from 'rxjs';
import { Arena, type ChannelMessage, ChannelClosedError, Tensor, abortRing, createRing, ringReceiver, ringSender } from '../src/index.ts';
import { until } from './support/until.ts';

type Leased = ChannelMessage & { release(): void };

function rows(seed: number, n: number, width: number, dtype: 'f32' | 'bf16' | 'f16' = 'f32'): Tensor {
  return Tensor.fromF32(Array.from({ length: n * width }, (_, i) => seed + i * 0.25), [n, width], dtype);
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/** What a message says, as plain data: compared between the copy and the lease receivers and the sender. */
function contents(m: ChannelMessage): unknown {
  return { kind: m.kind, meta: m.meta, tensors: (m.tensors ?? []).map((t) => ({ dtype: t.dtype, shape: [...t.shape], data: Array.from(t.data) })) };
}

/** A ring with a leasing receiver that collects (and holds) what it gets; `ended` settles with the inbox. */
function leasing(name: string, capacity: number) {
  const ring = createRing(name, capacity);
  const send = ringSender(ring);
  const got: Leased[] = [];
  const ended = new Promise<Error | undefined>((resolve) =>
    ringReceiver(ring, { lease: true }).inbox$.subscribe({ next: (m) => got.push(m), complete: () => resolve(undefined), error: resolve }),
  );
  return { send, got, ring, ended };
}

test('a leased message has the contents a copying receiver gets, as views into the ring', async () => {
  const copyRing = createRing('copy', 1 << 20);
  const leaseRing = createRing('lease', 1 << 20);
  const messages: ChannelMessage[] = [
    { kind: 'a', meta: 7, tensors: [rows(1, 2, 16), rows(2, 1, 3, 'bf16')] },
    { kind: 'b', meta: { s: 'é', n: [1, 2] } },
    { kind: 'a', tensors: [rows(3, 3, 5, 'f16')] },
    { kind: 'large', meta: -0, tensors: [rows(4, 100, 1024), rows(5, 1, 7)] }, // ≥ 64 KiB: the streamed path
  ];
  const copies = firstValueFrom(ringReceiver(copyRing).inbox$.pipe(toArray()));
  const leases = firstValueFrom(ringReceiver(leaseRing, { lease: true }).inbox$.pipe(toArray()));
  for (const ring of [copyRing, leaseRing]) {
    const sender = ringSender(ring);
    for (const m of messages) await sender.send(m);
    sender.close();
  }
  const [copied, leased] = await Promise.all([copies, leases]);
  assert.deepEqual(leased.map(contents), copied.map(contents));
  assert.deepEqual(leased.map(contents), messages.map(contents));
  for (const m of leased) {
    for (const t of m.tensors ?? []) assert.equal(t.buffer, leaseRing.buffer);
    m.release();
  }
});

test('held leases hold the ring: the sender waits, and goes on once one is released', async () => {
  const { send, got, ended } = leasing('held', 512);
  const message = (i: number): ChannelMessage => ({ kind: 'x', meta: i, tensors: [rows(i, 1, 16)] }); // 128 bytes
  let accepted = 0;
  while (send.trySend(message(accepted))) accepted++;
  assert.equal(accepted, 4);
  await until(() => got.length === 4);
  let sentLate = false;
  const late = send.send(message(4)).then(() => (sentLate = true));
  await settle();
  assert.equal(sentLate, false, 'the sender must wait while every slot is leased');
  assert.deepEqual(got.map(contents), [0, 1, 2, 3].map((i) => contents(message(i))), 'held tensors are not overwritten');
  got[0].release();
  await late;
  await until(() => got.length === 5);
  assert.deepEqual(contents(got[4]), contents(message(4)));
  assert.deepEqual(got.slice(1, 4).map(contents), [1, 2, 3].map((i) => contents(message(i))));
  send.close();
  assert.equal(await ended, undefined);
});

test('out-of-order release: the tail moves only over the released prefix', async () => {
  const { send, got, ended } = leasing('order', 512);
  const message = { kind: 'x', tensors: [rows(0, 1, 16)] }; // 128 bytes: 4 fill the ring
  while (send.trySend(message));
  await until(() => got.length === 4);
  got[1].release();
  got[2].release();
  got[2].release(); // twice: no effect
  assert.equal(send.trySend(message), false, 'records 1 and 2 are free, but record 0 still holds the tail');
  got[0].release();
  assert.equal(send.trySend(message), true);
  assert.equal(send.trySend(message), true);
  assert.equal(send.trySend(message), true);
  assert.equal(send.trySend(message), false, 'record 3 is still leased');
  got[3].release();
  assert.equal(send.trySend(message), true);
  send.close();
  assert.equal(await ended, undefined);
  assert.equal(got.length, 8);
});

test('leases through many wrap-arounds, released out of order, arrive intact and are not overwritten while held', async () => {
  // Rounded to 4032: records of 128–448 bytes wrap at odd places, and 3 held ones leave room for the next.
  const ring = createRing('lease-wrap', 4000);
  const sender = ringSender(ring);
  const sent: unknown[] = [];
  const problems: string[] = [];
  const held: Array<{ m: Leased; seen: unknown; i: number }> = [];
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    ringReceiver(ring, { lease: true }).inbox$.subscribe({
      next: (m) => {
        const i = received++;
        const seen = contents(m);
        if (JSON.stringify(seen) !== JSON.stringify(sent[i])) problems.push(`message ${i} arrived wrong`);
        held.push({ m, seen, i });
        // Hold up to 3 leases and release the newest or the oldest in turn, so releases come out of order.
        if (held.length === 3) {
          const { m: out, seen: was, i: k } = held.splice(i % 2 === 0 ? 2 : 0, 1)[0];
          if (JSON.stringify(contents(out)) !== JSON.stringify(was)) problems.push(`message ${k} changed while leased`);
          out.release();
        }
      },
      complete: resolve,
      error: reject,
    });
  });
  for (let i = 0; i < 500; i++) {
    const dtype = (['f32', 'bf16', 'f16'] as const)[i % 3];
    const tensors = i % 7 === 0 ? [] : [rows(i, 1 + (i % 5), 16, dtype), rows(-i, 1, 3)];
    const message: ChannelMessage = i % 4 === 0 ? { kind: `k${i}`, tensors } : { kind: 'é✓', meta: { i, s: 'ü'.repeat(i % 9) }, tensors };
    sent.push(contents(message));
    await sender.send(message);
  }
  sender.close();
  await done;
  assert.equal(received, 500);
  assert.deepEqual(problems, []);
  for (const { m } of held) m.release();
});

test('closing or aborting with leases outstanding: held tensors stay intact, pending sends fail, release is harmless', async () => {
  const message = { kind: 'x', tensors: [rows(9, 1, 16)] }; // 128 bytes: 2 fill a 256-byte ring
  const aborting = leasing('lease-abort', 256);
  while (aborting.send.trySend(message));
  await until(() => aborting.got.length === 2);
  const pending = aborting.send.send(message);
  abortRing(aborting.ring, 'the consumer stopped');
  await assert.rejects(pending, (e: unknown) => e instanceof ChannelClosedError && /consumer stopped/.test(e.message));
  assert.ok((await aborting.ended) instanceof ChannelClosedError);
  for (const m of aborting.got) assert.deepEqual(contents(m), contents(message));
  for (const m of aborting.got) m.release();

  const ring = createRing('lease-close2', 256);
  const sender = ringSender(ring);
  const leaser = ringReceiver(ring, { lease: true });
  const got: Leased[] = [];
  leaser.inbox$.subscribe((m) => got.push(m));
  while (sender.trySend(message));
  await until(() => got.length === 2);
  const stuck = sender.send(message);
  leaser.close();
  await assert.rejects(stuck, (e: unknown) => e instanceof ChannelClosedError && /receiver closed/.test(e.message));
  for (const m of got) assert.deepEqual(contents(m), contents(message));
  for (const m of got) m.release();
});

test('lease and arena exclude each other', () => {
  assert.throws(() => ringReceiver(createRing('both', 256), { lease: true, arena: new Arena({ name: 'a', bytes: 1024 }) }), /"both".*lease and arena/);
});
