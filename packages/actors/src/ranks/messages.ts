// What flows between the driver, the gateway and the ranks. Every message is a ChannelMessage: a kind, small
// JSON meta, and tensor rows written into the channel's ring.
import { Tensor } from '@asap/runtime';

/** A request as the gateway hands it to a rank: token ids travel as an f32 tensor (exact below 2^24). */
export interface RequestMeta {
  readonly id: number;
  /** Host time the request entered the engine (ms). */
  readonly arrivedMs: number;
  /** Host time by which its first token is due (ms); Infinity-free: absent when there is no SLO. */
  readonly deadlineMs?: number;
  /** Return the last position's logits with the result. */
  readonly logits: boolean;
}

/** A finished request, rank → gateway → driver. */
export interface ResultMeta {
  readonly id: number;
  readonly firstToken: number;
  /** The rank that held its attention and KV. */
  readonly rank: string;
  /** Positions held in its KV cache on that rank. */
  readonly positions: number;
}

/** A request that ended without a result, anywhere → driver. */
export interface FailedMeta {
  readonly id: number;
  readonly message: string;
  /** Set when a rank was the cause. */
  readonly rank?: string;
  readonly cancelled?: boolean;
}

/** A rank's queue after a step: what load-aware placement reads. */
export interface LoadMeta {
  /** Requests this rank has received from the gateway so far (placements after that are not counted below). */
  readonly received: number;
  readonly queuedTokens: number;
  /** Sum over queued chunks of tokens × context: the attention work still queued. */
  readonly queuedAttentionWork: number;
}

/**
 * One group of dispatched rows: `count` consecutive rows for `expert` of `layer`. The combine reply carries
 * the expert outputs of the same rows in the same order.
 */
export type ExpertGroup = readonly [expert: number, count: number];

export interface DispatchMeta {
  readonly layer: number;
  /** Micro-batch (or, under asap, the sender's batch id) the rows belong to. */
  readonly batch: number;
  readonly groups: readonly ExpertGroup[];
  /** Earliest TTFT deadline among the rows' requests (asap orders expert work by it). */
  readonly deadlineMs?: number;
  /** Request ids whose rows are here (asap drops rows of cancelled requests). */
  readonly requests?: readonly number[];
  /** The request of each row, run-length encoded in row order: [request id, rows][]. */
  readonly runs?: readonly (readonly [number, number])[];
}

export interface CombineMeta {
  readonly layer: number;
  readonly batch: number;
  readonly rows: number;
}

export function tokensTensor(tokens: Int32Array): Tensor {
  return Tensor.fromF32(Float32Array.from(tokens), [tokens.length]);
}

export function tokensOf(t: Tensor): Int32Array {
  return Int32Array.from(t.toF32());
}
