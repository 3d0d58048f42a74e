// The reference forward as an engine: one model in the calling thread, requests served one at a time in
// arrival order. The oracle every other engine is compared against, behind the same interface.
import { type Backend, type BackendName, createBackend } from '@asap/runtime';
import { Subject, asyncScheduler } from 'rxjs';
import { checkPrompt } from '../model/forward/prompt.ts';
import { referencePrefill } from '../model/forward/reference.ts';
import type { MoeModel } from '../model/weights/model.ts';
import { loadModel } from '../model/weights/load.ts';
import { residentModel } from '../model/weights/resident.ts';
import type { Engine, EngineOptions, EngineStats, PrefillOutcome, PrefillRequest, RankReport, RankSpan } from './engine.ts';
import { EngineClosedError, PrefillCancelledError, PrefillRequestError } from '../errors.ts';
import { commonOptions } from './options.ts';

const RANK = 'reference';
const now = (): number => performance.now();

class ReferenceEngine implements Engine {
  readonly name = 'reference';
  readonly host = 'inline';
  readonly ranks = [RANK];
  readonly failure = undefined;
  readonly scheduler = asyncScheduler;
  private readonly spans = new Subject<RankSpan>();
  readonly events$ = this.spans.asObservable();
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 0;
  private closed = false;
  private computeMs = 0;
  private tokens = 0;
  private readonly startMs = now();

  constructor(
    private readonly compute: Backend,
    private readonly model: MoeModel,
  ) {}

  get backend(): BackendName {
    return this.compute.name;
  }

  now(): number {
    return now() - this.startMs;
  }

  prefill(request: PrefillRequest): Promise<PrefillOutcome> {
    if (this.closed) return Promise.reject(new EngineClosedError('prefill after close()'));
    const c = this.model.config;
    let ids: Int32Array;
    try {
      ids = checkPrompt(request?.tokens ?? [], c.vocabSize, c.maxPositionEmbeddings);
    } catch (error) {
      return Promise.reject(new PrefillRequestError(error instanceof Error ? error.message : String(error)));
    }
    const id = this.nextId++;
    const arrived = now();
    const run = this.queue.then(() => {
      if (this.closed) throw new EngineClosedError(`request ${id} was still queued`);
      if (request.signal?.aborted) throw new PrefillCancelledError(id);
      const start = now();
      const result = referencePrefill(this.compute, this.model, ids);
      result.kv.release();
      const end = now();
      this.computeMs += end - start;
      this.tokens += ids.length;
      this.spans.next({ rank: RANK, kind: 'compute', name: 'prefill', start: start - this.startMs, end: end - this.startMs, requests: [id] });
      return {
        id,
        firstToken: result.firstToken,
        logits: request.logits ? result.logits : undefined,
        ttftMs: end - arrived,
        kv: { rank: RANK, positions: ids.length },
      };
    });
    this.queue = run.catch(() => {});
    return run;
  }

  async stats(): Promise<EngineStats> {
    const elapsed = now() - this.startMs;
    const report: RankReport = {
      rank: RANK,
      steps: this.nextId,
      tokens: this.tokens,
      computeMs: this.computeMs,
      activeMs: this.computeMs,
      barrierWaitMs: 0,
      queueWaitMs: 0,
      idleMs: elapsed - this.computeMs,
      kernelShare: 1,
      expertCalls: 0,
      expertRows: 0,
      kvBytes: 0,
      queuedTokens: 0,
    };
    return { engine: 'reference', ranks: [report], routingCounts: [] };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    this.spans.complete();
    this.compute.dispose();
  }
}

export async function startReferenceEngine(options: EngineOptions): Promise<Engine> {
  const common = await commonOptions(options);
  const backend = await createBackend(common.backend);
  try {
    const model = residentModel((await loadModel(common.modelDir)).model, backend);
    return new ReferenceEngine(backend, model);
  } catch (error) {
    backend.dispose();
    throw error;
  }
}
