// The configuration every ASAP rank module shares.
import type { ActorId, BackendName } from '@asap/runtime';
import type { AttentionRoleOptions } from './attention-role.ts';
import type { ExpertHolders } from './expert-placement.ts';
import type { ExpertRoleOptions } from './expert-role.ts';
import type { InjectedFault } from './timeline.ts';
import type { PopularityOptions } from './expert-popularity.ts';

export interface AsapRankConfig {
  readonly modelDir: string;
  readonly backend: BackendName;
  readonly gateway: ActorId;
  readonly attentionRanks: readonly ActorId[];
  readonly expertRanks: readonly ActorId[];
  readonly holders: ExpertHolders;
  readonly attention: Omit<AttentionRoleOptions, 'gateway' | 'expertRanks' | 'holders'>;
  readonly experts: ExpertRoleOptions;
  readonly logSpans: boolean;
  readonly fault?: InjectedFault;
  /** Numerics off: shapes only, routing from this popularity model. */
  readonly shapesOnly?: PopularityOptions;
}

/** The experts `rank` holds per layer, for loading. */
export function heldExperts(holders: ExpertHolders, rank: number): number[][] {
  // Loops, not flatMap: every rank of a 384-rank simulation runs this over every layer's experts at start.
  return holders.map((layer) => {
    const held: number[] = [];
    for (let e = 0; e < layer.length; e++) if (layer[e].includes(rank)) held.push(e);
    return held;
  });
}
