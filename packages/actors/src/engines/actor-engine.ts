// The driver side of every engine that runs on ranks: it starts the host, admits and checks requests, sends
// them to the gateway, and settles each caller's promise from what comes back — a result, a failure, a
// cancellation, or a rank's crash.
import { type ActorSpec, type BackendName, type Host, type SimHost, type Tensor, startSimHost, startThreadsHost } from '@asap/runtime';
import { type Observable, type SchedulerLike, Subject, type Subscription, filter, map } from 'rxjs';
import { kvBytesPerToken } from '../model/forward/kv-cache.ts';
import { checkPrompt } from '../model/forward/prompt.ts';
import type { FailedMeta, RequestMeta, ResultMeta } from '../ranks/messages.ts';
import { tokensTensor } from '../ranks/messages.ts';
import type { RankStats } from '../ranks/rank-stats.ts';
import type { SpanDetail } from '../ranks/timeline.ts';
import { Admission } from './admission.ts';
import type { Engine, EngineName, EngineStats, PrefillOutcome, PrefillRequest, RankReport, RankSpan, SimOptions } from './engine.ts';
import { EngineClosedError, EngineFailedError, PrefillCancelledError, PrefillRequestError } from '../errors.ts';
import type { CommonOptions } from './options.ts';

export interface ActorEnginePlan {
  readonly name: EngineName;
  readonly common: CommonOptions;
  readonly actors: readonly ActorSpec[];
  readonly gateway: string;
  /** The ranks whose stats make up the engine's report. */
  readonly ranks: readonly string[];
  /** Ring bytes per channel: at least the largest message the plan sends. */
  readonly ringBytes: number;
  readonly sim?: SimOptions;
  readonly startTimeoutMs?: number;
  readonly stallTimeoutMs?: number;
}

interface Pending {
  readonly tokens: number;
  readonly sentAt: number;
  readonly resolve: (outcome: PrefillOutcome) => void;
  readonly reject: (error: Error) => void;
  readonly detach: () => void;
}

const abortError = (id: number): Error => new PrefillCancelledError(id);

class ActorEngine implements Engine {
  readonly events$: Observable<RankSpan>;
  failure: Error | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly admission: Admission;
  private readonly spans = new Subject<RankSpan>();
  private nextId = 0;
  private closing: Promise<void> | undefined;
  private results: Subscription | undefined;

  constructor(
    private readonly plan: ActorEnginePlan,
    private readonly hostRef: Host,
  ) {
    const { common } = plan;
    this.admission = new Admission(common.maxQueuedTokens, common.maxWaiting);
    this.events$ = this.spans.asObservable();
    // Only when ranks log spans: a subscriber makes the sim host build an event object for every send,
    // arrival and device op, a cost a long simulation without spans should not pay.
    if (common.spans) {
      hostRef.events$
        .pipe(
          filter((e) => e.event === 'span'),
          map((e) => ({ rank: e.actor, ...(e.detail as SpanDetail) })),
        )
        .subscribe(this.spans);
    }
  }

  /**
   * Results and crashes are read only while requests are pending, so an idle engine that was never closed
   * does not keep the process alive. A rank that crashes or stalls (the host's heartbeat) fails the engine:
   * every rank's work feeds every request's next layer, so no request survives a lost rank.
   */
  private listen(): void {
    if (this.results) return;
    this.results = this.hostRef.crashes$.subscribe((error) =>
      this.fail(new EngineFailedError(error.actor, `crashed or stopped responding (${error.message})`, { cause: error })),
    );
    this.results.add(this.hostRef.inboxFrom(this.plan.gateway).subscribe({
      next: (message) => this.settle(message.kind, message.meta, message.tensors),
      error: (error: unknown) => {
        if (this.closing) return;
        const actor = (error as { actor?: string }).actor ?? this.plan.gateway;
        this.fail(new EngineFailedError(actor, `failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
      },
    }));
  }

  get name(): EngineName {
    return this.plan.name;
  }

  get host(): 'threads' | 'sim' {
    return this.hostRef.kind;
  }

  get backend(): BackendName {
    return this.plan.common.backend;
  }

  get ranks(): readonly string[] {
    return this.plan.ranks;
  }

  get scheduler(): SchedulerLike {
    return this.hostRef.scheduler;
  }

  now(): number {
    return this.hostRef.now();
  }

  async prefill(request: PrefillRequest): Promise<PrefillOutcome> {
    if (this.failure) throw this.failure;
    if (this.closing) throw new EngineClosedError('prefill after close()');
    const { config, kvBudgetBytes } = this.plan.common;
    let ids: Int32Array;
    try {
      ids = checkPrompt(request?.tokens ?? [], config.vocabSize, config.maxPositionEmbeddings);
    } catch (error) {
      throw new PrefillRequestError(error instanceof Error ? error.message : String(error));
    }
    const kvBytes = ids.length * kvBytesPerToken(config);
    if (kvBytes > kvBudgetBytes) {
      throw new PrefillRequestError(`the prompt's KV cache needs ${kvBytes} bytes, more than a rank's kvBudgetBytes (${kvBudgetBytes})`);
    }
    const slo = request.ttftSloMs;
    if (slo !== undefined && !(typeof slo === 'number' && slo > 0 && Number.isFinite(slo))) {
      throw new PrefillRequestError(`ttftSloMs must be a positive number of ms, got ${String(slo)}`);
    }
    const id = this.nextId++;
    const signal = request.signal;
    if (signal?.aborted) throw abortError(id);
    const arrivedMs = this.hostRef.now();
    await this.admission.enter(id, ids.length, signal);
    if (this.failure) {
      this.admission.leave(ids.length);
      throw this.failure;
    }
    const meta: RequestMeta = { id, arrivedMs, deadlineMs: slo === undefined ? undefined : arrivedMs + slo, logits: request.logits ?? false };
    return new Promise<PrefillOutcome>((resolve, reject) => {
      const onAbort = (): void => void this.hostRef.send(this.plan.gateway, { kind: 'cancel', meta: { id } }).catch(() => {});
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { tokens: ids.length, sentAt: arrivedMs, resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) });
      this.listen();
      this.hostRef.send(this.plan.gateway, { kind: 'request', meta, tensors: [tokensTensor(ids)] }).catch((error: unknown) => {
        this.end(id)?.reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  async stats(): Promise<EngineStats> {
    const all = await Promise.all(this.plan.ranks.map((r) => this.hostRef.stats(r)));
    let routingCounts: number[][] = [];
    const ranks = all.map((s): RankReport => {
      const custom = s.custom as RankStats;
      routingCounts = custom.routingCounts.map((layer, l) => layer.map((n, e) => n + (routingCounts[l]?.[e] ?? 0)));
      return {
        rank: s.id,
        steps: custom.steps,
        tokens: custom.tokens,
        computeMs: s.deviceBusyMs,
        activeMs: custom.activeMs,
        barrierWaitMs: custom.barrierWaitMs,
        queueWaitMs: custom.queueWaitMs,
        idleMs: custom.idleMs,
        kernelShare: custom.activeMs > 0 ? Math.min(1, s.deviceBusyMs / custom.activeMs) : 0,
        expertCalls: custom.expertCalls,
        expertRows: custom.expertRows,
        kvBytes: custom.kvBytes,
        queuedTokens: custom.queuedTokens,
      };
    });
    const host = this.hostRef;
    return { engine: this.name, ranks, routingCounts, ...(host.kind === 'sim' && { simEvents: (host as SimHost).eventsRun }) };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.listen();
      for (const id of [...this.pending.keys()]) this.end(id)?.reject(new EngineClosedError(`request ${id} was still running`));
      this.admission.close('the engine was closed while the request waited for admission');
      try {
        await this.hostRef.shutdown();
      } finally {
        this.spans.complete();
        this.results?.unsubscribe();
      }
    })();
    return this.closing;
  }

  private end(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    p.detach();
    if (this.pending.size === 0) {
      this.results?.unsubscribe();
      this.results = undefined;
    }
    this.admission.leave(p.tokens);
    return p;
  }

  private settle(kind: string, meta: unknown, tensors: readonly Tensor[] | undefined): void {
    if (kind === 'result') {
      const r = meta as ResultMeta;
      const p = this.end(r.id);
      if (!p) return;
      const logits = tensors?.[0] ? Float32Array.from(tensors[0].toF32()) : undefined;
      p.resolve({ id: r.id, firstToken: r.firstToken, logits, ttftMs: this.hostRef.now() - p.sentAt, kv: { rank: r.rank, positions: r.positions } });
    } else if (kind === 'failed') {
      const f = meta as FailedMeta;
      const p = this.end(f.id);
      if (!p) return;
      p.reject(f.cancelled ? abortError(f.id) : f.rank ? new EngineFailedError(f.rank, f.message) : new Error(f.message));
    } else {
      this.fail(new Error(`engine: unexpected "${kind}" from the gateway`));
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const id of [...this.pending.keys()]) this.end(id)?.reject(error);
    this.admission.close(error.message);
  }
}

/** Starts the plan's actors on the chosen host and returns the engine facade over them. */
export async function startActorEngine(plan: ActorEnginePlan): Promise<Engine> {
  const options = { actors: plan.actors, ringBytes: plan.ringBytes, seed: plan.sim?.seed ?? 1 };
  const host =
    plan.common.host === 'sim'
      ? await startSimHost({ ...options, deviceCost: plan.sim?.deviceCost, link: plan.sim?.link, recordEvents: false, startTimeoutMs: plan.startTimeoutMs })
      : await startThreadsHost({ ...options, startTimeoutMs: plan.startTimeoutMs, stallTimeoutMs: plan.stallTimeoutMs });
  return new ActorEngine(plan, host);
}

