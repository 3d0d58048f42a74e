// Every error class of @asap/runtime, in one place: what a caller may catch and test with instanceof.
import type { ActorId } from './actor/ids.ts';
import type { BackendName, OpName } from './kernels/backend.ts';
import type { DType } from './tensor/dtype.ts';

// tensors
/** Asking an arena for more than it has left. The message says who asked, for how much, and what was free. */
export class ArenaExhaustedError extends Error {
  constructor(
    readonly arena: string,
    readonly requestedBytes: number,
    readonly freeBytes: number,
    readonly budgetBytes: number,
  ) {
    super(
      `arena "${arena}": cannot allocate ${requestedBytes} bytes: ${freeBytes} of ${budgetBytes} bytes free ` +
        `(largest block may be smaller); raise the budget or free tensors first`,
    );
    this.name = 'ArenaExhaustedError';
  }
}

// kernels
/** A backend asked for something it does not have: an unknown backend, a missing op, or a dtype it cannot read. */
export class KernelUnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelUnsupportedError';
  }

  static dtype(backend: BackendName, op: OpName, role: string, dtype: DType, accepted: readonly DType[]): KernelUnsupportedError {
    return new KernelUnsupportedError(
      `${backend} backend: ${op} cannot read ${role} of dtype ${dtype} (accepts ${accepted.join(', ') || 'nothing'})`,
    );
  }
}

/** A device allocation past the budget a backend was given (cuda: `deviceMemoryBytes`). */
export class DeviceMemoryExceededError extends Error {
  constructor(
    readonly backend: BackendName,
    readonly requestedBytes: number,
    readonly usedBytes: number,
    readonly budgetBytes: number,
    detail: string,
  ) {
    super(
      `${backend} backend: device memory budget exceeded: ${detail}; raise deviceMemoryBytes, ` +
        `hold fewer weights per rank or run shorter chunks`,
    );
    this.name = 'DeviceMemoryExceededError';
  }
}

// channels
/** A message that can never fit the channel's ring, however long the sender waits. */
export class MessageTooLargeError extends Error {
  constructor(
    readonly channel: string,
    readonly messageBytes: number,
    readonly capacityBytes: number,
  ) {
    super(
      `channel "${channel}": message needs ${messageBytes} bytes in the ring but its capacity is ${capacityBytes} bytes; ` +
        `send fewer rows per message or create the ring larger`,
    );
    this.name = 'MessageTooLargeError';
  }
}

/** Sending on a channel that is closed (by its sender or receiver) or aborted; or a receiver seeing an abort. */
export class ChannelClosedError extends Error {
  constructor(
    readonly channel: string,
    readonly reason: string,
  ) {
    super(`channel "${channel}": ${reason}`);
    this.name = 'ChannelClosedError';
  }
}

// actors
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
