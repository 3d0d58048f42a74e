// The synchronous DP+EP baseline as a plan: N colocated ranks (attention for their own requests, a share of
// the experts for everyone), a gateway placing requests by queued tokens, lock-step at every MoE layer.
import type { ActorSpec } from '@asap/runtime';
import type { ColocatedRankConfig } from '../ranks/colocated-rank.ts';
import type { GatewayConfig } from '../ranks/gateway.ts';
import { type ActorEnginePlan, startActorEngine } from './actor-engine.ts';
import type { Engine, EngineOptions } from './engine.ts';
import { EngineConfigError } from '../errors.ts';
import { commonOptions, positiveInteger } from './options.ts';
import { rankModule } from './rank-modules.ts';
import { expertHolders, messageRingBytes, placementCosts } from './plan-pieces.ts';

export const GATEWAY = 'gateway';

export async function syncPlan(options: EngineOptions): Promise<ActorEnginePlan> {
  const common = await commonOptions(options);
  const c = common.config;
  const ranks = positiveInteger(options.ranks, 'ranks', 2);
  if (options.attentionRanks !== undefined || options.expertRanks !== undefined) {
    throw new EngineConfigError('the sync engine colocates attention and experts: give ranks, not attentionRanks/expertRanks');
  }
  const sync = options.sync ?? {};
  const tokenBudget = positiveInteger(sync.tokenBudget, 'sync.tokenBudget', 512);
  const microBatches = (sync.twoBatchOverlap ?? true) ? 2 : 1;
  const holders = expertHolders(c, ranks, common.experts);
  const ids = Array.from({ length: ranks }, (_, i) => `rank-${i}`);
  const rank: ColocatedRankConfig = {
    modelDir: common.modelDir,
    backend: common.backend,
    ranks: ids,
    gateway: GATEWAY,
    holders,
    tokenBudget,
    microBatches,
    kvBudgetBytes: common.kvBudgetBytes,
    logSpans: common.spans,
    fault: options.fault,
    shapesOnly: common.shapesOnly,
  };
  // Load-aware placement uses the same cost model as asap's (tokens and the context they attend to): a
  // baseline placed by token counts alone would be weaker than the best synchronous system we can build.
  const gateway: GatewayConfig = { ranks: ids, placement: (sync.loadAwarePlacement ?? true) ? 'work' : 'round-robin', ...placementCosts(c) };
  const actors: ActorSpec[] = [
    { id: GATEWAY, module: rankModule('gateway', common.host), config: gateway, sendsTo: ['driver', ...ids] },
    ...ids.map((id): ActorSpec => ({ id, module: rankModule('colocated-rank', common.host), config: rank, sendsTo: [GATEWAY, ...ids.filter((p) => p !== id)], maxInFlight: 64 })),
  ];
  return {
    name: 'sync',
    common,
    actors,
    gateway: GATEWAY,
    ranks: ids,
    ringBytes: messageRingBytes(c, tokenBudget),
    sim: options.sim,
    startTimeoutMs: options.startTimeoutMs,
    stallTimeoutMs: options.stallTimeoutMs,
  };
}

export async function startSyncEngine(options: EngineOptions): Promise<Engine> {
  return startActorEngine(await syncPlan(options));
}

