import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { Tensor, createRing, ringSender } from '../src/index.ts';
import type { ChannelWorkerTask, ConsumerReport } from './channel-worker.ts';

function spawn(task: ChannelWorkerTask): { worker: Worker; report: Promise<unknown> } {
  const worker = new Worker(new URL('./channel-worker.cjs', import.meta.url), { workerData: task, stderr: true });
  let stderr = '';
  worker.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const report = new Promise<unknown>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`channel worker (${task.role}) exited with code ${code} before reporting: ${stderr}`)));
  });
  return { worker, report };
}

test('4 producers × 4 consumers on worker threads: 100,000 messages, none lost, duplicated or reordered', async () => {
  const producers = 4;
  const consumers = 4;
  const perRing = 6250; // 16 rings × 6250 = 100,000 messages
  // 4 KiB rings: messages take 128–192 bytes, so every ring wraps about 250 times.
  const rings = Array.from({ length: producers }, (_, p) => Array.from({ length: consumers }, (_, c) => createRing(`p${p}->c${c}`, 4096)));
  const consuming = Array.from({ length: consumers }, (_, c) => spawn({ role: 'consumer', rings: rings.map((row) => row[c]) }));
  const producing = rings.map((row, p) => spawn({ role: 'producer', producer: p, rings: row, perRing }));
  try {
    const sent = (await Promise.all(producing.map((w) => w.report))) as Array<{ sent?: number; error?: string }>;
    assert.deepEqual(sent, Array.from({ length: producers }, () => ({ sent: perRing * consumers })));
    const reports = (await Promise.all(consuming.map((w) => w.report))) as ConsumerReport[];
    for (const [c, report] of reports.entries()) {
      assert.deepEqual(report.problems, [], `consumer ${c}`);
      assert.deepEqual(report.received, Array.from({ length: producers }, () => perRing), `consumer ${c}`);
    }
  } finally {
    await Promise.all([...consuming, ...producing].map((w) => w.worker.terminate()));
  }
});

for (const [mode, arenaBytes, lease] of [
  ['fresh memory', undefined, false],
  ['an arena', 4 * 1024 * 1024, false],
  ['leases on the ring', undefined, true],
] as const) {
  test(`large messages stream through a small ring intact (receiving into ${mode})`, async () => {
    const ring = createRing(`bulk-${mode}`, 2.5 * 1024 * 1024); // 2–40 messages per lap
    const count = 150;
    const progress = new SharedArrayBuffer(4);
    const consumer = spawn({ role: 'bulk-consumer', ring, arenaBytes, lease, progress });
    const producer = spawn({ role: 'bulk-producer', ring, count, progress });
    try {
      assert.deepEqual(await producer.report, { sent: count });
      assert.deepEqual(await consumer.report, { received: [count], problems: [] });
    } finally {
      await Promise.all([consumer.worker.terminate(), producer.worker.terminate()]);
    }
  });
}

test('backpressure: a full ring makes the producer wait, and the ring bounds what is in flight', async () => {
  const ring = createRing('to-slow', 2048);
  const progress = new Int32Array(new SharedArrayBuffer(12));
  const sender = ringSender(ring);
  const message = { kind: 'rows', tensors: [Tensor.zeros([4, 16])] }; // 64 header + 256 rows = 320 bytes
  const ringHolds = Math.floor(2048 / 320);
  // No consumer yet: exactly what the ring holds goes in, then the producer has to wait.
  let accepted = 0;
  while (sender.trySend(message)) {
    accepted++;
    Atomics.add(progress, 0, 1);
  }
  assert.equal(accepted, ringHolds);
  let resolved = false;
  const pending = sender.send(message).then(() => {
    resolved = true;
    Atomics.add(progress, 0, 1);
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(resolved, false, 'send resolves only once the consumer frees space');

  const consumer = spawn({ role: 'slow-consumer', ring, busyUs: 200, progress: progress.buffer as SharedArrayBuffer });
  try {
    await pending;
    const total = 300;
    for (let i = accepted + 1; i < total; i++) {
      if (!sender.trySend(message)) await sender.send(message);
      Atomics.add(progress, 0, 1);
    }
    sender.close();
    await consumer.report;
    assert.equal(Atomics.load(progress, 1), total);
    assert.ok(Atomics.load(progress, 2) <= ringHolds, `in flight ${Atomics.load(progress, 2)} > ring bound ${ringHolds}`);
  } finally {
    await consumer.worker.terminate();
  }
});
