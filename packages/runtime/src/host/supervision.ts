// Small pieces every host uses so that nothing waits forever on an actor that is gone.

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `work`, unless the actor dies first: then its death's error (which names it). */
export function raceDeath<T>(work: Promise<T>, died: Promise<never>): Promise<T> {
  return Promise.race([work, died]);
}

/** `work`, or an Error(message) after `ms`. The timer never keeps the process alive. */
export function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
