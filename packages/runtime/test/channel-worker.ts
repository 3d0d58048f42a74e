// The threads of the channel tests: producers and consumers talking over rings, reporting to the test.
import { parentPort, workerData } from 'node:worker_threads';
import type { Observable } from 'rxjs';
import { Arena, type ChannelMessage, type RingDescriptor, Tensor, anyRank, ringReceiver, ringSender } from '../src/index.ts';
import { yieldTurn } from '../src/memory/yield-turn.ts';

export type ChannelWorkerTask =
  | { readonly role: 'producer'; readonly producer: number; readonly rings: readonly RingDescriptor[]; readonly perRing: number }
  | { readonly role: 'consumer'; readonly rings: readonly RingDescriptor[] }
  | { readonly role: 'slow-consumer'; readonly ring: RingDescriptor; readonly busyUs: number; readonly progress: SharedArrayBuffer }
  | { readonly role: 'bulk-producer'; readonly ring: RingDescriptor; readonly count: number; readonly progress: SharedArrayBuffer }
  | {
      readonly role: 'bulk-consumer';
      readonly ring: RingDescriptor;
      readonly arenaBytes?: number;
      readonly lease?: boolean;
      readonly progress: SharedArrayBuffer;
    };

export interface ConsumerReport {
  readonly received: number[];
  readonly problems: string[];
}

/** The payload of message `seq` from `producer`: 1–4 rows of 8 values, all derived from (producer, seq). */
export function payload(producer: number, seq: number): Tensor {
  const rows = 1 + (seq % 4);
  return Tensor.fromF32(Array.from({ length: rows * 8 }, (_, k) => producer * 1_000_000 + seq + k), [rows, 8]);
}

/** Large message `seq`: 64 KiB to ~1 MiB of rows (large records stream through the ring) and a bf16 row. */
export function bulkPayload(seq: number): Tensor[] {
  const rows = 16 + ((seq * 37) % 240);
  const values = new Float32Array(rows * 1024);
  for (let k = 0; k < values.length; k++) values[k] = (seq * 7919 + k) % 65521;
  return [Tensor.fromF32(values, [rows, 1024]), Tensor.fromF32([seq, -seq, 0.5], [1, 3], 'bf16')];
}

async function produceBulk(task: Extract<ChannelWorkerTask, { role: 'bulk-producer' }>): Promise<void> {
  const sender = ringSender(task.ring);
  const received = new Int32Array(task.progress);
  for (let seq = 0; seq < task.count; seq++) {
    const tensors = bulkPayload(seq);
    // Now and then let the receiver catch up, so that it copies the next record out while it is written.
    if (seq % 3 === 0) while (Atomics.load(received, 0) < seq) await yieldTurn();
    await sender.send({ kind: 'bulk', meta: seq, tensors });
  }
  sender.close();
  parentPort!.postMessage({ sent: task.count });
}

function consumeBulk(task: Extract<ChannelWorkerTask, { role: 'bulk-consumer' }>): void {
  const arena = task.arenaBytes ? new Arena({ name: 'bulk-inbox', bytes: task.arenaBytes }) : undefined;
  const progress = new Int32Array(task.progress);
  let received = 0;
  const problems: string[] = [];
  const inbox$: Observable<ChannelMessage & { release?(): void }> = task.lease
    ? ringReceiver(task.ring, { lease: true }).inbox$
    : ringReceiver(task.ring, { arena }).inbox$;
  inbox$.subscribe({
    next: (message) => {
      const seq = message.meta as number;
      const want = bulkPayload(seq);
      const got = message.tensors ?? [];
      const same =
        seq === received &&
        got.length === want.length &&
        got.every((t, i) => t.dtype === want[i].dtype && t.size === want[i].size && t.data.every((v, k) => v === want[i].data[k]));
      if (!same && problems.length < 10) problems.push(`message ${received}: got seq ${seq} with wrong or missing rows`);
      if (arena) for (const t of got) arena.release(t);
      message.release?.();
      Atomics.store(progress, 0, ++received);
    },
    complete: () => parentPort!.postMessage({ received: [received], problems } satisfies ConsumerReport),
    error: (error: unknown) => parentPort!.postMessage({ received: [received], problems: [...problems, String(error)] } satisfies ConsumerReport),
  });
}

async function produce(task: Extract<ChannelWorkerTask, { role: 'producer' }>): Promise<void> {
  const senders = task.rings.map((ring) => ringSender(ring));
  for (let seq = 0; seq < task.perRing; seq++) {
    for (const sender of senders) await sender.send({ kind: 'seq', meta: { producer: task.producer, seq }, tensors: [payload(task.producer, seq)] });
  }
  for (const sender of senders) sender.close();
  parentPort!.postMessage({ sent: task.perRing * senders.length });
}

function consume(task: Extract<ChannelWorkerTask, { role: 'consumer' }>): void {
  const receivers = task.rings.map((ring) => ringReceiver(ring));
  const received = task.rings.map(() => 0);
  const problems: string[] = [];
  anyRank(receivers.map((r) => r.inbox$)).subscribe({
    next: (message) => {
      if (typeof message.meta !== 'object' || message.tensors?.length !== 1) {
        if (problems.length < 10) problems.push(`malformed message: ${JSON.stringify(message)}`);
        return;
      }
      const { producer, seq } = message.meta as { producer: number; seq: number };
      if (seq !== received[producer] && problems.length < 10) problems.push(`from ${producer}: got seq ${seq}, expected ${received[producer]}`);
      received[producer] = seq + 1;
      const got = message.tensors![0].data;
      const want = payload(producer, seq).data;
      if ((got.length !== want.length || got.some((v, k) => v !== want[k])) && problems.length < 10) {
        problems.push(`from ${producer}: seq ${seq} has wrong rows`);
      }
    },
    complete: () => parentPort!.postMessage({ received, problems } satisfies ConsumerReport),
    error: (error: unknown) => parentPort!.postMessage({ received, problems: [...problems, String(error)] } satisfies ConsumerReport),
  });
}

/** Takes `busyUs` of CPU per message and records how far the producer ever got ahead of it. */
function consumeSlowly(task: Extract<ChannelWorkerTask, { role: 'slow-consumer' }>): void {
  const progress = new Int32Array(task.progress); // [sent, received, most sent-but-unreceived seen]
  ringReceiver(task.ring).inbox$.subscribe({
    next: () => {
      const received = Atomics.add(progress, 1, 1) + 1;
      const ahead = Atomics.load(progress, 0) - received;
      if (ahead > Atomics.load(progress, 2)) Atomics.store(progress, 2, ahead);
      const until = performance.now() + task.busyUs / 1000;
      while (performance.now() < until);
    },
    complete: () => parentPort!.postMessage({ done: true }),
  });
}

const task = workerData as ChannelWorkerTask;
if (task.role === 'producer') {
  produce(task).catch((error: unknown) => parentPort!.postMessage({ error: String(error) }));
} else if (task.role === 'consumer') {
  consume(task);
} else if (task.role === 'bulk-producer') {
  produceBulk(task).catch((error: unknown) => parentPort!.postMessage({ error: String(error) }));
} else if (task.role === 'bulk-consumer') {
  consumeBulk(task);
} else {
  consumeSlowly(task);
}
