// Every error class of @asap/actors, in one place: what a caller may catch and test with instanceof.

/** A checkpoint that cannot be used. The message names the file and the problem, so a user can fix it. */
export class CheckpointError extends Error {
  readonly file: string;
  readonly problem: string;

  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'CheckpointError';
    this.file = file;
    this.problem = problem;
  }
}

/** The engine's configuration cannot run; thrown by createEngine before any worker starts. */
export class EngineConfigError extends Error {
  constructor(message: string) {
    super(`createEngine: ${message}`);
    this.name = 'EngineConfigError';
  }
}

/** A request was malformed (tokens, options); nothing was sent to a rank. */
export class PrefillRequestError extends Error {
  constructor(message: string) {
    super(`prefill: ${message}`);
    this.name = 'PrefillRequestError';
  }
}

/** A rank crashed or stopped answering: the requests it touched end with this, and so does the engine. */
export class EngineFailedError extends Error {
  constructor(
    readonly rank: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`engine failed: rank "${rank}" ${message}`, options);
    this.name = 'EngineFailedError';
  }
}

/** The request was cancelled through its AbortSignal; its memory has been released on every rank. */
export class PrefillCancelledError extends Error {
  constructor(readonly requestId: number) {
    super(`prefill: request ${requestId} was cancelled`);
    this.name = 'PrefillCancelledError';
  }
}

/** Admission is full: too many tokens queued and too many requests already waiting for room. */
export class EngineOverloadedError extends Error {
  constructor(message: string) {
    super(`prefill: ${message}`);
    this.name = 'EngineOverloadedError';
  }
}

/** The engine was closed before the request finished. */
export class EngineClosedError extends Error {
  constructor(what: string) {
    super(`engine closed: ${what}`);
    this.name = 'EngineClosedError';
  }
}
