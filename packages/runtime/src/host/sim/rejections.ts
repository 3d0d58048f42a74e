// Unhandled rejections under the sim host. Every actor shares this thread, so a rejection nobody handled in
// actor code (an unawaited ctx.send that fails) would end the whole process; when it can be traced to an
// actor it crashes that actor instead, as it would crash that actor's worker under the threads host.
import type { ActorRunner } from '../../actor/runner.ts';
import { rejectionOrigin } from '../../actor/runner.ts';

/** A host that may own a rejection: it takes it (returns true) when the runner is one of its actors. */
export type RejectionOwner = (runner: ActorRunner, reason: unknown) => boolean;

const owners = new Set<RejectionOwner>();

function onUnhandledRejection(reason: unknown, promise: Promise<unknown>): void {
  const runner = rejectionOrigin(promise, reason);
  if (runner) for (const owner of owners) if (owner(runner, reason)) return;
  // Not an actor's: do what Node does when nobody listens (unless someone else listens, e.g. a test runner).
  if (process.listenerCount('unhandledRejection') === 1) throw reason;
}

/** Routes traced rejections to `owner` until the returned function is called. */
export function claimRejections(owner: RejectionOwner): () => void {
  if (owners.size === 0) process.on('unhandledRejection', onUnhandledRejection);
  owners.add(owner);
  return () => {
    owners.delete(owner);
    if (owners.size === 0) process.off('unhandledRejection', onUnhandledRejection);
  };
}
