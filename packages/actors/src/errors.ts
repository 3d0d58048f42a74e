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
