// ASAP as a plan: attention ranks and expert ranks as different actors (or, with placement 'colocated',
// every rank both), a gateway placing requests where they will finish soonest, and no barrier anywhere.
// Each of the four optimizations is one switch here.
import type { ActorSpec } from '@asap/runtime';
import type { AsapRankConfig } from '../ranks/asap-config.ts';
import type { GatewayConfig } from '../ranks/gateway.ts';
import { type ActorEnginePlan, startActorEngine } from './actor-engine.ts';
import type { Engine, EngineOptions } from './engine.ts';
import { EngineConfigError } from '../errors.ts';
import { commonOptions, positiveInteger } from './options.ts';
import { expertHolders, messageRingBytes, placementCosts, redundantExperts } from './plan-pieces.ts';
import { rankModule } from './rank-modules.ts';

const GATEWAY = 'gateway';
/** The express lane's default: 1.5 round trips (cm384, 16 ranks, trace at SLO×5: 1.0 to 2.5 all gained 3–6 points). */
export const DEFAULT_EXPRESS_ROUND_TRIPS = 1.5;

export type AsapPlacement = 'disaggregated' | 'colocated';

export async function asapPlan(options: EngineOptions): Promise<ActorEnginePlan> {
  const common = await commonOptions(options);
  const c = common.config;
  const asap = options.asap ?? {};
  const placement: AsapPlacement = asap.placement ?? 'disaggregated';
  if (placement !== 'disaggregated' && placement !== 'colocated') {
    throw new EngineConfigError(`asap.placement must be "disaggregated" or "colocated", got "${String(placement)}"`);
  }
  let attentionIds: string[];
  let expertIds: string[];
  if (placement === 'colocated') {
    if (options.attentionRanks !== undefined || options.expertRanks !== undefined) {
      throw new EngineConfigError('asap with placement "colocated" runs attention and experts on every rank: give ranks, not attentionRanks/expertRanks');
    }
    const n = positiveInteger(options.ranks, 'ranks', 2);
    attentionIds = Array.from({ length: n }, (_, i) => `rank-${i}`);
    expertIds = attentionIds;
  } else {
    if (options.ranks !== undefined) throw new EngineConfigError('asap (disaggregated) needs attentionRanks and expertRanks, not ranks');
    const a = positiveInteger(options.attentionRanks, 'attentionRanks', 1);
    const e = positiveInteger(options.expertRanks, 'expertRanks', 1);
    attentionIds = Array.from({ length: a }, (_, i) => `attn-${i}`);
    expertIds = Array.from({ length: e }, (_, i) => `expert-${i}`);
  }
  const balancing = asap.expertLoadBalancing ?? true;
  const holders = expertHolders(c, expertIds.length, { ...common.experts, redundantExperts: balancing ? redundantExperts(c, common.experts) : 0 });
  const microBatchTokens = positiveInteger(asap.microBatchTokens, 'asap.microBatchTokens', 256);
  const batchWaitMs = waitMs(asap.batchWaitMs, 'asap.batchWaitMs');
  const convoyWaitMs = waitMs(asap.convoyWaitMs, 'asap.convoyWaitMs');
  const pipelining = asap.microBatchPipelining ?? true;
  const expressRoundTrips = asap.expressRoundTrips ?? DEFAULT_EXPRESS_ROUND_TRIPS;
  if (!(typeof expressRoundTrips === 'number' && expressRoundTrips >= 0 && Number.isFinite(expressRoundTrips))) {
    throw new EngineConfigError(`asap.expressRoundTrips must be a finite number >= 0, got ${String(asap.expressRoundTrips)}`);
  }
  const rank: AsapRankConfig = {
    modelDir: common.modelDir,
    backend: common.backend,
    gateway: GATEWAY,
    attentionRanks: attentionIds,
    expertRanks: expertIds,
    holders,
    attention: {
      microBatchTokens,
      pipelineDepth: pipelining ? positiveInteger(asap.microBatches, 'asap.microBatches', 2) : 1,
      expressRoundTrips: pipelining ? expressRoundTrips : 0,
      leastLoadedReplica: balancing,
      kvBudgetBytes: common.kvBudgetBytes,
    },
    experts: { continuousBatching: asap.expertBatching ?? true, batchWaitMs, batchRows: microBatchTokens * c.topK, convoyWaitMs, groupLayers: asap.groupLayers ?? false },
    logSpans: common.spans,
    fault: options.fault,
    shapesOnly: common.shapesOnly,
  };
  const gateway: GatewayConfig = {
    ranks: attentionIds,
    placement: (asap.loadAwarePlacement ?? true) ? 'work' : 'round-robin',
    ...placementCosts(c),
  };
  const actors: ActorSpec[] = [{ id: GATEWAY, module: rankModule('gateway', common.host), config: gateway, sendsTo: ['driver', ...attentionIds] }];
  if (placement === 'colocated') {
    for (const id of attentionIds) {
      actors.push({ id, module: rankModule('asap-colocated-rank', common.host), config: rank, sendsTo: [GATEWAY, ...attentionIds.filter((p) => p !== id)], maxInFlight: 1024 });
    }
  } else {
    for (const id of attentionIds) actors.push({ id, module: rankModule('attention-rank', common.host), config: rank, sendsTo: [GATEWAY, ...expertIds], maxInFlight: 1024 });
    for (const id of expertIds) actors.push({ id, module: rankModule('expert-rank', common.host), config: rank, sendsTo: attentionIds, maxInFlight: 1024 });
  }
  return {
    name: 'asap',
    common,
    actors,
    gateway: GATEWAY,
    ranks: [...new Set([...attentionIds, ...expertIds])],
    ringBytes: messageRingBytes(c, microBatchTokens),
    sim: options.sim,
    startTimeoutMs: options.startTimeoutMs,
    stallTimeoutMs: options.stallTimeoutMs,
  };
}

export async function startAsapEngine(options: EngineOptions): Promise<Engine> {
  return startActorEngine(await asapPlan(options));
}

/** A wait option: a finite number of ms >= 0 (default 0). */
function waitMs(value: unknown, name: string): number {
  const ms = value ?? 0;
  if (!(typeof ms === 'number' && ms >= 0 && Number.isFinite(ms))) throw new EngineConfigError(`${name} must be a finite number of ms >= 0, got ${String(value)}`);
  return ms;
}
