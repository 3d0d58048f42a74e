import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Arena, type ChannelMessage, ChannelClosedError, Tensor, createRing, ringReceiver, ringSender } from '../src/index.ts';
import { DATA_BELL, DATA_OFFSET, RECEIVER_SLEEPING, STREAM_DONE, STREAM_POS, TAIL, controlWords, ringBell } from '../src/channel/ring.ts';
import { until } from './support/until.ts';
import { yieldTurn } from '../src/memory/yield-turn.ts';

function rows(seed: number, n: number, width: number): Tensor {
  return Tensor.fromF32(Array.from({ length: n * width }, (_, i) => seed + i), [n, width]);
}

test('a receiver never pairs the last streamed record’s progress with the next record’s position', async () => {
  const ring = createRing('stream-race', 1 << 20);
  const control = controlWords(ring);
  const sender = ringSender(ring);
  const receiver = ringReceiver(ring, { pollUs: 0 });
  const got: ChannelMessage[] = [];
  let failure: unknown;
  const done = new Promise<void>((resolve) =>
    receiver.inbox$.subscribe({ next: (m) => got.push(m), error: (e) => ((failure = e), resolve()), complete: resolve }),
  );
  const first = rows(1, 256, 256); // 256 KiB: streamed
  await sender.send({ kind: 'a', tensors: [first] });
  await until(() => got.length === 1 && Atomics.load(control, RECEIVER_SLEEPING) === 1);
  // Garbage where the next record goes; then the sender starts streaming it (DONE = 0, then POS) right after
  // the receiver's first look at the stream words: the interleaving that used to pair the old DONE with the new POS.
  const tail = Atomics.load(control, TAIL);
  new Uint8Array(ring.buffer, DATA_OFFSET + tail, 4096).fill(0xa5);
  const load = Atomics.load;
  let injected = false;
  Atomics.load = ((array: Int32Array, index: number) => {
    const value = load(array, index);
    if (!injected && array.buffer === ring.buffer && (index === STREAM_DONE || index === STREAM_POS)) {
      injected = true;
      Atomics.store(control, STREAM_DONE, 0);
      Atomics.store(control, STREAM_POS, tail + 1);
    }
    return value;
  }) as typeof Atomics.load;
  try {
    ringBell(control, DATA_BELL);
    await until(() => injected);
  } finally {
    Atomics.load = load;
  }
  const second = rows(2, 256, 256);
  await sender.send({ kind: 'b', tensors: [second] });
  sender.close();
  await done;
  assert.equal(failure, undefined);
  assert.deepEqual(
    got.map((m) => m.kind),
    ['a', 'b'],
  );
  assert.deepEqual(Array.from(got[1].tensors![0].data), Array.from(second.data));
});

test('a receiver whose read fails aborts the ring: the sender fails at once instead of when the ring fills', async () => {
  const ring = createRing('rx-fails', 16 * 1024);
  const sender = ringSender(ring);
  const receiver = ringReceiver(ring, { arena: new Arena({ name: 'small', bytes: 1024 }) });
  const failed = new Promise<unknown>((resolve) => receiver.inbox$.subscribe({ error: resolve }));
  const big = { kind: 'x', tensors: [Tensor.zeros([1024])] }; // 4 KiB: more than the receiver's arena holds
  await sender.send(big);
  const error = await failed;
  assert.ok(error instanceof Error && !(error instanceof ChannelClosedError), `the receiver's own error, got ${String(error)}`);
  await assert.rejects(sender.send(big), (e: unknown) => e instanceof ChannelClosedError && /receiver failed/.test(e.message));
});

test('a receiver whose consumer is not ready stops reading: the ring fills and the sender waits until resume', async () => {
  const ring = createRing('not-ready', 512);
  const sender = ringSender(ring);
  let open = false;
  const receiver = ringReceiver(ring, { ready: () => open });
  const got: number[] = [];
  const done = new Promise<void>((resolve) => receiver.inbox$.subscribe({ next: (m) => got.push(m.meta as number), complete: resolve }));
  const message = (i: number): ChannelMessage => ({ kind: 'x', meta: i, tensors: [rows(i, 1, 16)] }); // 128 bytes
  let accepted = 0;
  while (sender.trySend(message(accepted))) accepted++;
  assert.equal(accepted, 4);
  await yieldTurn();
  assert.equal(sender.trySend(message(accepted)), false, 'nothing was read while the consumer was not ready');
  assert.deepEqual(got, []);
  open = true;
  receiver.resume();
  await sender.send(message(accepted++));
  sender.close();
  await done;
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
});

test('a sender rejects a send past maxQueued waiting ones instead of queueing without bound', async () => {
  const ring = createRing('queue-cap', 256);
  const sender = ringSender(ring, { maxQueued: 2 });
  const message: ChannelMessage = { kind: 'x', tensors: [rows(1, 1, 16)] };
  while (sender.trySend(message));
  const waiting = [sender.send(message), sender.send(message)];
  await assert.rejects(sender.send(message), /2 sends already wait for ring space/);
  const receiver = ringReceiver(ring);
  receiver.inbox$.subscribe();
  await Promise.all(waiting);
  sender.close();
});

test('a receiver parked for data does not keep the process alive once its last subscriber leaves', { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./channel-exit-child.ts', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0);
  assert.match(out, /unsubscribed/);
});
