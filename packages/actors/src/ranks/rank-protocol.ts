// The messages a rank that holds requests exchanges with the gateway, written once for every rank kind.
import type { ActorContext, ActorId, ChannelMessage } from '@asap/runtime';
import { Tensor } from '@asap/runtime';
import type { FailedMeta, LoadMeta, RequestMeta, ResultMeta } from './messages.ts';
import { tokensOf } from './messages.ts';
import type { HeldRequest, RequestQueue } from './request-queue.ts';

/** Queues a request from the gateway; a request this rank cannot hold is failed back, naming the rank. */
export async function acceptRequest(ctx: ActorContext, gateway: ActorId, queue: RequestQueue, message: ChannelMessage): Promise<void> {
  const meta = message.meta as RequestMeta;
  const tokens = message.tensors?.[0];
  if (!tokens) throw new Error(`request ${meta.id} arrived without its tokens`);
  try {
    queue.add(meta, tokensOf(tokens));
  } catch (error) {
    const failed: FailedMeta = { id: meta.id, rank: ctx.id, message: error instanceof Error ? error.message : String(error) };
    await ctx.send(gateway, { kind: 'failed', meta: failed });
  }
}

export async function sendResult(ctx: ActorContext, gateway: ActorId, request: HeldRequest, firstToken: number, logits: Float32Array): Promise<void> {
  const meta: ResultMeta = { id: request.meta.id, firstToken, rank: ctx.id, positions: request.tokens.length };
  await ctx.send(gateway, request.meta.logits && logits.length > 0 ? { kind: 'result', meta, tensors: [Tensor.fromF32(logits, [logits.length])] } : { kind: 'result', meta });
}

export async function sendCancelled(ctx: ActorContext, gateway: ActorId, id: number): Promise<void> {
  const meta: FailedMeta = { id, message: 'cancelled', cancelled: true };
  await ctx.send(gateway, { kind: 'failed', meta });
}

/** After a step: how much attention work this rank still holds, for load-aware placement. */
export async function reportLoad(ctx: ActorContext, gateway: ActorId, queue: RequestQueue, received: number): Promise<void> {
  const meta: LoadMeta = { received, queuedTokens: queue.queuedTokens, queuedAttentionWork: queue.queuedAttentionWork };
  await ctx.send(gateway, { kind: 'load', meta });
}
