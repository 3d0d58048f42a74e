// The gateway: admission from the driver, placement of each request on a rank that holds attention, and
// results back to the driver. Placement reads each rank's queued work (its last load report plus what was
// placed there since), so it stays O(ranks) per request whatever the traffic.
import { type ActorId, DRIVER, defineActor } from '@asap/runtime';
import type { FailedMeta, LoadMeta, RequestMeta } from './messages.ts';

/**
 * `tokens`: the rank with the fewest queued prompt tokens. `work`: the rank expected to finish soonest,
 * from a cost model of its queued tokens and the context they attend to. `round-robin`: in turn.
 */
export type PlacementPolicy = 'tokens' | 'work' | 'round-robin';

export interface GatewayConfig {
  /** The ranks that take requests (attention or colocated ranks), in order. */
  readonly ranks: readonly ActorId[];
  readonly placement: PlacementPolicy;
  /** Cost per queued token, and per token × context position, in one unit: only their ratio matters. */
  readonly tokenCost: number;
  readonly contextCost: number;
}

interface RankLoad {
  reported: LoadMeta;
  /** Placed since the last report the rank had seen: [sequence, tokens]. */
  unreported: Array<readonly [number, number]>;
  placed: number;
}

export interface GatewayStats {
  readonly placed: readonly number[];
}

export default defineActor<GatewayConfig, GatewayStats>((ctx, config) => {
  // Each rank's index, looked up per report and result: a map, not a scan of hundreds of ranks.
  const rankIndex = new Map(config.ranks.map((r, i) => [r, i]));
  const loads: RankLoad[] = config.ranks.map(() => ({ reported: { received: 0, queuedTokens: 0, queuedAttentionWork: 0 }, unreported: [], placed: 0 }));
  const holder = new Map<number, number>();
  let turn = 0;

  const expected = (r: number): number => {
    const load = loads[r];
    let tokens = load.reported.queuedTokens;
    let work = load.reported.queuedAttentionWork;
    for (const [, n] of load.unreported) {
      tokens += n;
      work += (n * (n + 1)) / 2;
    }
    if (config.placement === 'tokens') return tokens;
    return tokens * config.tokenCost + work * config.contextCost;
  };

  // Ties (idle ranks, equal queues) rotate: otherwise a light load would all land on rank 0.
  const choose = (): number => {
    const n = config.ranks.length;
    const first = turn++ % n;
    if (config.placement === 'round-robin') return first;
    let best = first;
    let bestCost = expected(first);
    for (let i = 1; i < n; i++) {
      const r = (first + i) % n;
      const cost = expected(r);
      if (cost < bestCost) [best, bestCost] = [r, cost];
    }
    return best;
  };

  return {
    async onMessage(from, message) {
      if (from === DRIVER) {
        if (message.kind === 'request') {
          const meta = message.meta as RequestMeta;
          const r = choose();
          const load = loads[r];
          load.unreported.push([++load.placed, message.tensors?.[0]?.size ?? 0]);
          holder.set(meta.id, r);
          await ctx.send(config.ranks[r], message);
        } else if (message.kind === 'cancel') {
          const { id } = message.meta as { id: number };
          const r = holder.get(id);
          if (r !== undefined) await ctx.send(config.ranks[r], message);
        } else throw new Error(`gateway: unexpected "${message.kind}" from the driver`);
        return;
      }
      const r = rankIndex.get(from) ?? -1;
      if (r < 0) throw new Error(`gateway: unexpected "${message.kind}" from "${from}"`);
      if (message.kind === 'load') {
        const meta = message.meta as LoadMeta;
        loads[r].reported = meta;
        loads[r].unreported = loads[r].unreported.filter(([seq]) => seq > meta.received);
      } else if (message.kind === 'result' || message.kind === 'failed') {
        holder.delete((message.meta as FailedMeta).id);
        await ctx.send(DRIVER, message);
      } else throw new Error(`gateway: unexpected "${message.kind}" from "${from}"`);
    },
    stats: () => ({ placed: loads.map((l) => l.placed) }),
  };
});
