// Small pieces every host uses so that nothing waits forever on an actor that is gone.
import type { ActorId } from '../actor/ids.ts';

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `work`, unless the actor dies first: then its death's error (which names it). */
export function raceDeath<T>(work: Promise<T>, died: Promise<never>): Promise<T> {
  return Promise.race([work, died]);
}

/** `work`, or an Error(message) after `ms` (the message made then, so it can say what was still pending). */
export function withTimeout<T>(work: Promise<T>, ms: number, message: string | (() => string), options: { keepAlive?: boolean } = {}): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(typeof message === 'string' ? message : message())), ms);
    // By default the timer never keeps the process alive; one guarding work that nothing else keeps alive must.
    if (!options.keepAlive) timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Names the actors that had not started by the timeout (the first few, then a count). */
export function startTimeoutMessage(pending: ReadonlySet<ActorId>, total: number, timeoutMs: number): string {
  const names = [...pending].slice(0, 8).map((id) => `"${id}"`);
  const more = pending.size > names.length ? ` and ${pending.size - names.length} more` : '';
  return `${pending.size} of ${total} actors did not start within ${timeoutMs} ms: ${names.join(', ')}${more}`;
}
