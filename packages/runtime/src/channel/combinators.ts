// The two ways an engine consumes its peers' streams. The synchronous baseline waits for one message from
// every rank before it proceeds (a barrier); ASAP handles each message as it lands (no barrier).
import { EMPTY, Observable, Subscription, merge } from 'rxjs';
import { Fifo } from '../collections/fifo.ts';

/**
 * A barrier across ranks: emits [one from rank 0, one from rank 1, …] once every rank has sent its next
 * message, in rank order. Completes when any rank's stream completes with nothing of its own left to emit
 * (at once if nothing is buffered); an error from any rank is passed on; with no ranks, it completes at once.
 * RxJS `zip`'s semantics, but an arriving message costs O(1): zip looks at every rank's buffer on each one,
 * which at hundreds of ranks makes the barrier cost grow with the rank count per message. Here a count of
 * ranks with something buffered decides, and only an emitted batch (one message from each rank) visits them all.
 */
export function rankBarrier<T>(inboxes: readonly Observable<T>[]): Observable<T[]> {
  const sources = [...inboxes];
  if (sources.length === 0) return EMPTY;
  return new Observable<T[]>((subscriber) => {
    const buffers = sources.map(() => new Fifo<T>());
    const completed = sources.map(() => false);
    let filled = 0;
    const inner = new Subscription();
    const onValue = (rank: number, value: T): void => {
      const buffer = buffers[rank];
      buffer.put(value);
      if (buffer.size === 1 && ++filled === sources.length) emitBatch();
    };
    const emitBatch = (): void => {
      const batch = new Array<T>(sources.length);
      filled = 0;
      for (let i = 0; i < sources.length; i++) {
        batch[i] = buffers[i].take();
        if (buffers[i].size > 0) filled++;
      }
      subscriber.next(batch);
      if (buffers.some((buffer, i) => buffer.size === 0 && completed[i])) subscriber.complete();
    };
    for (let rank = 0; rank < sources.length && !subscriber.closed; rank++) {
      inner.add(
        sources[rank].subscribe({
          next: (value) => onValue(rank, value),
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            completed[rank] = true;
            if (buffers[rank].size === 0) subscriber.complete();
          },
        }),
      );
    }
    return inner;
  });
}

/** Barrier-free: every rank's messages as they arrive (per rank in order). Completes when all ranks have. */
export function anyRank<T>(inboxes: readonly Observable<T>[]): Observable<T> {
  return merge(...inboxes);
}
