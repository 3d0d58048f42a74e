// The far end of `asap bench channels`: echoes pings and acknowledges bulk messages, over rings or over
// plain postMessage. Received tensors are copied out of the ring (or into an arena) as any actor gets them.
import { parentPort, workerData } from 'node:worker_threads';
import { Arena, type RingDescriptor, ringReceiver, ringSender } from '@asap/runtime';

export type EchoTask =
  | { readonly via: 'ring'; readonly request: RingDescriptor; readonly reply: RingDescriptor; readonly arenaBytes?: number }
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
