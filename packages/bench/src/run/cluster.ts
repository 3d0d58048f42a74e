// Numerics off at cluster scale: ranks carry a large model's shapes, expert routing comes from a skewed,
// seeded popularity model, and admission is bounded by what a real rank holds rather than by a laptop's
// memory (shapes hold no KV). Plain data, so it crosses into sweep workers.
import type { EngineOptions } from '@asap/actors';

export interface ShapesOnly {
  /** Zipf exponent of expert popularity (0: uniform). */
  readonly skew: number;
  /**
   * Both engines place experts by the routing counts a long history of that popularity gives (EPLB, with
   * redundant copies of the hot experts), as production deployments do. Default true.
   */
  readonly history?: boolean;
}

export function shapesOnlyOptions(shapes: ShapesOnly, seed: number): Pick<EngineOptions, 'numerics' | 'popularity' | 'kvBudgetBytes' | 'maxQueuedTokens' | 'maxWaiting'> {
  return {
    numerics: false,
    popularity: { skew: shapes.skew, seed, history: shapes.history ?? true },
    kvBudgetBytes: 64 * 2 ** 30,
    maxQueuedTokens: 2 ** 31 - 1,
    maxWaiting: 2 ** 24,
  };
}

/** What a modelled cluster adds to every engine setup of a job. */
export interface SimSettings {
  /** A built-in hardware profile, `local`, or a profile JSON file. */
  readonly profile: string;
  readonly shapesOnly?: ShapesOnly;
}
