// The one way to run a prefill engine: `createEngine({ model, engine, ... })`, engines chosen by name the
// way `createBackend` chooses a backend. Callers switch engines without changing anything else.
import type { BackendName, DeviceCost, LinkProfile } from '@asap/runtime';
import type { Observable, SchedulerLike } from 'rxjs';
import type { InjectedFault, SpanKind } from '../ranks/timeline.ts';

export type EngineName = 'reference' | 'sync' | 'asap';
export const ENGINE_NAMES: readonly EngineName[] = ['reference', 'sync', 'asap'];
export type HostName = 'threads' | 'sim';

/** The synchronous DP+EP baseline's production features; each on by default, each switchable. */
export interface SyncOptions {
  /** Most prompt tokens a rank takes into one step (chunked prefill). Default 512. */
  readonly tokenBudget?: number;
  /** Split each step into two micro-batches so one's dispatch/combine overlaps the other's compute. Default true. */
  readonly twoBatchOverlap?: boolean;
  /**
   * Place each request on the rank expected to finish its queue soonest, from a cost model of queued tokens and
   * the context they attend to (true), or round-robin (false). Default true.
   */
  readonly loadAwarePlacement?: boolean;
}

/** ASAP's layout and its four optimizations; each on by default, each switchable for an ablation. */
export interface AsapOptions {
  /** Attention and expert ranks apart ('disaggregated', the default), or both on every rank ('colocated'). */
  readonly placement?: 'disaggregated' | 'colocated';
  /** Gateway places each request on the attention rank expected to finish it soonest (false: round-robin). */
  readonly loadAwarePlacement?: boolean;
  /** Keep several micro-batches in flight per attention rank (false: one at a time). */
  readonly microBatchPipelining?: boolean;
  /** Micro-batches in flight when pipelining. Default 2. */
  readonly microBatches?: number;
  /**
   * The express lane: a request waiting for a micro-batch slot opens one beyond `microBatches` when its
   * deadline is this many measured micro-batch round trips away, so it is not queued into a miss. Default 1.5;
   * 0: never. Acts only on requests with deadlines, and only with pipelining.
   */
  readonly expressRoundTrips?: number;
  /** Prompt tokens per micro-batch. Default 256. */
  readonly microBatchTokens?: number;
  /** Expert ranks batch rows from every source by deadline with a bounded wait (false: one dispatch at a time). */
  readonly expertBatching?: boolean;
  /**
   * The bounded wait for a small expert batch to grow, ms. Default 0: a batch is whatever arrived while the
   * previous one computed (so it grows with load); timers here are 1 ms coarse on the threads host.
   */
  readonly batchWaitMs?: number;
  /**
   * Most time an expert rank holds a layer's batch for the rest of its convoy (the micro-batches served with
   * it at the layer before), serving other layers meanwhile, ms. Default 0: no convoys.
   */
  readonly convoyWaitMs?: number;
  /**
   * Under expert batching, an expert rank runs every ready layer's rows in one device op, its fixed cost paid
   * once for all (false: one layer per op). Default false.
   */
  readonly groupLayers?: boolean;
  /** Replicate hot experts and send each row to the least-loaded replica (false: one copy of each expert). */
  readonly expertLoadBalancing?: boolean;
}

/** Where routed experts live; shared by both engines. */
export interface ExpertPlacementOptions {
  /** Routing counts per layer and expert (e.g. `stats().routingCounts` of an earlier run): place by popularity. */
  readonly routingCounts?: readonly (readonly number[])[];
  /**
   * Redundant expert copies per layer beyond one per expert, each given to the expert with the most load per
   * copy (EPLB). Default: one per eight experts with routing counts, none without.
   */
  readonly redundantExperts?: number;
}

/** The sim host's cost model (defaults: one core of this machine, a fast local link). */
export interface SimOptions {
  readonly deviceCost?: DeviceCost;
  /** One profile for every link, or one per directed pair of actors (e.g. faults only where a test wants them). */
  readonly link?: LinkProfile | ((from: string, to: string) => LinkProfile);
  readonly seed?: number;
}

export interface EngineOptions {
  /** Checkpoint directory: config.json + safetensors. */
  readonly model: string;
  readonly engine: EngineName;
  /** Default: the fastest available here (`defaultBackend()`: native, else wasm). */
  readonly backend?: BackendName;
  /** Default 'threads'. The reference engine always runs in the calling thread. */
  readonly host?: HostName;
  /** sync (and asap with placement 'colocated'): the number of ranks. */
  readonly ranks?: number;
  /** asap (disaggregated): ranks running attention, and ranks serving routed experts. */
  readonly attentionRanks?: number;
  readonly expertRanks?: number;
  readonly sync?: SyncOptions;
  readonly asap?: AsapOptions;
  readonly experts?: ExpertPlacementOptions;
  /** KV cache bytes each attention-holding rank may keep. Default 256 MiB. */
  readonly kvBudgetBytes?: number;
  /** Prompt tokens admitted and not yet finished, engine-wide; past it `prefill` waits. Default 1,048,576. */
  readonly maxQueuedTokens?: number;
  /** Requests waiting for admission; past it `prefill` rejects with EngineOverloadedError. Default 4,096. */
  readonly maxWaiting?: number;
  /** Ranks log compute / wait / idle spans to `events$` (default true; off for long sweeps). */
  readonly spans?: boolean;
  readonly sim?: SimOptions;
  /**
   * false: numerics off — ranks carry shapes only (no weights read, routing drawn from a skewed, seeded
   * expert-popularity model) while every op and message is still charged; sim host only. The first token
   * is then -1. Default true.
   */
  readonly numerics?: boolean;
  /**
   * Numerics off: Zipf skew of expert popularity (default 1) and its seed (default the sim seed); `history`:
   * place experts by the routing counts a long history of it gives, as EPLB does in production (default
   * false; `experts.routingCounts`, when given, wins).
   */
  readonly popularity?: { readonly skew?: number; readonly seed?: number; readonly history?: boolean };
  /** A crash injected on purpose, for tests and failure drills: that rank throws in its n-th device op. */
  readonly fault?: InjectedFault;
  /**
   * threads host: a rank whose thread shows no sign of life for this long (a heartbeat) is reported as
   * failed, and so are the requests it touched (default 30 s; keep it above the longest single kernel call).
   */
  readonly stallTimeoutMs?: number;
  /** threads host: how long workers may take to start (default 60 s). */
  readonly startTimeoutMs?: number;
}

export interface PrefillRequest {
  readonly tokens: ArrayLike<number>;
  /** Cancels the request; its memory is released on every rank and prefill rejects with PrefillCancelledError. */
  readonly signal?: AbortSignal;
  /** Return the last position's logits (default false: the first token only). */
  readonly logits?: boolean;
  /** TTFT objective, ms after the call: ASAP's expert ranks serve earliest deadlines first. */
  readonly ttftSloMs?: number;
}

export interface PrefillOutcome {
  readonly id: number;
  readonly firstToken: number;
  readonly logits?: Float32Array;
  /** From the call to the first token, ms (virtual under the sim host). */
  readonly ttftMs: number;
  /** Where the prompt's KV cache was built, and how many positions it holds. */
  readonly kv: { readonly rank: string; readonly positions: number };
}

/** A stretch of one rank's time: computing, waiting at a barrier or for rows, or idle. */
export interface RankSpan {
  readonly rank: string;
  readonly kind: SpanKind;
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly requests?: readonly number[];
  readonly rows?: number;
}

export interface RankReport {
  readonly rank: string;
  readonly steps: number;
  readonly tokens: number;
  /** Time inside kernels (device ops). */
  readonly computeMs: number;
  /**
   * Time the rank's thread ran code (threads host: its event loop's active time; sim: its device time). Waits of
   * pipelined micro-batches overlap, so busy time is measured, not derived from the waits.
   */
  readonly activeMs: number;
  readonly barrierWaitMs: number;
  readonly queueWaitMs: number;
  readonly idleMs: number;
  /** Share of the rank's busy time (its thread running code, neither idle nor waiting) spent inside kernels. */
  readonly kernelShare: number;
  readonly expertCalls: number;
  readonly expertRows: number;
  readonly kvBytes: number;
  readonly queuedTokens: number;
}

export interface EngineStats {
  readonly engine: EngineName;
  readonly ranks: readonly RankReport[];
  /** Rows routed per layer and expert, summed over ranks: feed back as `experts.routingCounts`. */
  readonly routingCounts: number[][];
  /** sim host: virtual-time events run so far (message arrivals, device op ends, timers), for its speed. */
  readonly simEvents?: number;
}

export interface Engine {
  readonly name: EngineName;
  readonly host: HostName | 'inline';
  /** The compute backend every rank runs. */
  readonly backend: BackendName;
  /** The ranks (actors) the engine runs. */
  readonly ranks: readonly string[];
  /** ms on the engine's clock (virtual under the sim host), the clock `ttftMs` is measured on. */
  now(): number;
  /** A scheduler on that clock: a driver times request arrivals with it (under sim, in virtual time). */
  readonly scheduler: SchedulerLike;
  prefill(request: PrefillRequest): Promise<PrefillOutcome>;
  /** Every rank's spans as they happen (hot). */
  readonly events$: Observable<RankSpan>;
  stats(): Promise<EngineStats>;
  /** Set once a rank has failed: every later prefill rejects with it. */
  readonly failure: Error | undefined;
  /** Ends every pending request with EngineClosedError and stops the ranks. Idempotent. */
  close(): Promise<void>;
}
