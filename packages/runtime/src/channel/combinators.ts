// The two ways an engine consumes its peers' streams. The synchronous baseline waits for one message from
// every rank before it proceeds (a barrier); ASAP handles each message as it lands (no barrier).
import { type Observable, merge, zip } from 'rxjs';

/**
 * A barrier across ranks: emits [one from rank 0, one from rank 1, …] once every rank has sent its next
 * message, in rank order. Completes when any rank's stream completes; with no ranks, at once.
 */
export function rankBarrier<T>(inboxes: readonly Observable<T>[]): Observable<T[]> {
  return zip([...inboxes]);
}

/** Barrier-free: every rank's messages as they arrive (per rank in order). Completes when all ranks have. */
export function anyRank<T>(inboxes: readonly Observable<T>[]): Observable<T> {
  return merge(...inboxes);
}
