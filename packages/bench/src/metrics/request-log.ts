// What a run records per request: enough to recompute every metric later.

export interface RequestRecord {
  readonly id: number;
  readonly promptTokens: number;
  /** ms after the run's start on the engine's clock. */
  readonly arrivalMs: number;
  readonly ttftMs: number;
  readonly firstToken: number;
  /** The rank that held the request's KV cache. */
  readonly rank: string;
}
