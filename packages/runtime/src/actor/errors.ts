import type { ActorId } from './ids.ts';

function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}

/** An actor threw in a handler, a timer or its stream, or its worker exited. Names the actor. */
export class ActorCrashedError extends Error {
  constructor(
    readonly actor: ActorId,
    cause: unknown,
  ) {
    super(`actor "${actor}" crashed: ${describe(cause)}`, { cause });
    this.name = 'ActorCrashedError';
  }
}

/** Sending to, or asking, an actor that has crashed or was shut down. */
export class ActorStoppedError extends Error {
  constructor(
    readonly actor: ActorId,
    readonly reason: string,
  ) {
    super(`actor "${actor}" is stopped (${reason})`);
    this.name = 'ActorStoppedError';
  }
}

/** An actor could not be started: its module is missing, has no actor definition, or its setup failed. */
export class ActorSpawnError extends Error {
  constructor(
    readonly actor: ActorId,
    readonly module: string,
    cause: unknown,
  ) {
    super(`cannot spawn actor "${actor}" from ${module}: ${describe(cause)}`, { cause });
    this.name = 'ActorSpawnError';
  }
}
