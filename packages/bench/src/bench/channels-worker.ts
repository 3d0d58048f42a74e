// The far end of `asap bench channels`: echoes pings and acknowledges bulk messages, over rings or over
// plain postMessage. Received tensors are copied out of the ring (into fresh memory or an arena), or leased:
// read in place in the ring and released once read, as a consumer would after computing on them.
import { parentPort, workerData } from 'node:worker_threads';
import { Arena, type RingDescriptor, ringReceiver, ringSender } from '@asap/runtime';

export type EchoTask =
  | {
      readonly via: 'ring';
      readonly request: RingDescriptor;
      readonly reply: RingDescriptor;
      readonly arenaBytes?: number;
      readonly lease?: boolean;
    }
  | { readonly via: 'port' };

/** A postMessage payload: structured-cloned both ways. */
export interface PortMessage {
  readonly kind: 'ping' | 'bulk' | 'ack';
  readonly seq: number;
  readonly data?: Float32Array;
}

const task = workerData as EchoTask;
const port = parentPort!;

if (task.via === 'port') {
  port.on('message', (m: PortMessage) => {
    if (m.kind === 'ping') port.postMessage(m);
    else port.postMessage({ kind: 'ack', seq: m.seq } satisfies PortMessage);
  });
} else if (task.lease) {
  const reply = ringSender(task.reply);
  let checksum = 0;
  ringReceiver(task.request, { lease: true }).inbox$.subscribe({
    next: (m) => {
      // Read a few values of each tensor (the consumer's work on the rows), then give the ring space back.
      for (const t of m.tensors ?? []) checksum += t.data[0] + t.data[t.size >> 1] + t.data[t.size - 1];
      const answer = m.kind === 'ping' ? { kind: m.kind, meta: m.meta, tensors: m.tensors } : { kind: 'ack', meta: checksum };
      if (reply.trySend(answer)) m.release();
      else void reply.send(answer).then(() => m.release());
    },
    complete: () => reply.close(),
  });
} else {
  const arena = task.arenaBytes ? new Arena({ name: 'bench-inbox', bytes: task.arenaBytes }) : undefined;
  const reply = ringSender(task.reply);
  ringReceiver(task.request, { arena }).inbox$.subscribe({
    next: (m) => {
      const answer = m.kind === 'ping' ? m : { kind: 'ack', meta: m.meta };
      // An echoed ping's row is copied into the reply ring by the time the send is done; then it is freed.
      const release = (): void => {
        if (arena) for (const t of m.tensors ?? []) arena.release(t);
      };
      if (reply.trySend(answer)) release();
      else void reply.send(answer).then(release);
    },
    complete: () => reply.close(),
  });
}
