// The model as a rank holds it: the attention side and/or a subset of routed experts. Ranks compute only
// through `RankCompute`: `RankModel` runs the reference forward's own pieces on real weights; `ShapeModel`
// (numerics off) carries shapes only, for simulating clusters far larger than this machine.
import { type Arena, type Backend, type BackendName, Scratch, type Tensor, createBackend } from '@asap/runtime';
import { layerScratchBytes } from '../model/forward/activations.ts';
import type { ModelConfig } from '../model/config/model-config.ts';
import { type AttentionHalfResult, type MoeDispatch, attentionHalf } from '../model/forward/attention-half.ts';
import { combine } from '../model/forward/combine.ts';
import { type ExpertBatchResult, type IncomingRows, runExpertBatch } from './dispatch-rows.ts';
import { gatedFfn } from '../model/forward/gated-ffn.ts';
import { KvCache } from '../model/forward/kv-cache.ts';
import { argmax, lmHeadLogits } from '../model/forward/lm-head.ts';
import type { MoeModel } from '../model/weights/model.ts';
import { loadModel } from '../model/weights/load.ts';
import { residentModel } from '../model/weights/resident.ts';

/** A request's KV as a rank holds it: the real cache, or (numerics off) its capacity alone. */
export type RankKv = KvCache | { readonly capacity: number };

/** What a rank computes with; the rank code is the same whether numerics are on or off. */
export interface RankCompute {
  readonly config: ModelConfig;
  /** Bytes per stored weight element of the matmul weights (4 for f32, 2 for bf16). */
  readonly weightBytes: number;
  /** false: rows are shapes only ([rows, 0]); messages stand for their bytes with `virtualBytes`. */
  readonly numerics: boolean;
  newKv(capacity: number): RankKv;
  /** Returns a request's KV memory (to the backend it was made in). */
  releaseKv(kv: RankKv): void;
  embed(tokens: Int32Array): Tensor;
  attention(layer: number, hidden: Tensor, kv: RankKv): AttentionHalfResult;
  /**
   * Each routed expert of `layer` once over the rows every source sent it (`runExpertBatch`). The outputs are
   * valid until the next `experts` call on this rank (send them, whose send copies them, or copy them first).
   * `sizes`: rowsPerExpert(sources), where the caller has it.
   */
  experts(layer: number, sources: readonly IncomingRows[], sizes?: ReadonlyMap<number, number>): ExpertBatchResult;
  combine(residual: Tensor, dispatch: MoeDispatch, slotOutputs: Tensor): Tensor;
  /** The last position's logits and their argmax (numerics off: no logits, token -1). */
  finish(lastRow: Tensor): { firstToken: number; logits: Float32Array };
  dispose(): void;
}

export interface RankModelSpec {
  /** Checkpoint directory (config.json + safetensors). */
  readonly modelDir: string;
  readonly backend: BackendName;
  /** Load the attention side (embeddings, attention, routers, shared/dense MLPs, LM head). */
  readonly attentionSide: boolean;
  /** Routed experts held, per layer (empty for dense layers). */
  readonly experts: readonly (readonly number[])[];
}

export class RankModel implements RankCompute {
  readonly numerics = true;
  /**
   * Where an op's intermediates go, reset per op; only what outlives the op is copied out. A fresh shared
   * buffer per tensor costs its first writes page faults (here ≈ 1.8 ms for 512 KB against 0.04 ms reused),
   * more than the kernels of a small op. Ops run one at a time on a rank, so one region serves them all.
   */
  private scratch: Scratch | undefined;
  /** An expert batch's gathered input rows: read by every expert's op, dead once the batch returns. */
  private staging: Scratch | undefined;
  /** An expert batch's output rows: the caller's until the next batch (the rank sends them before). */
  private outbox: Scratch | undefined;

  private constructor(
    readonly backend: Backend,
    readonly model: MoeModel,
    readonly weightBytes: number,
  ) {}

  static async load(spec: RankModelSpec): Promise<RankModel> {
    const backend = await createBackend(spec.backend);
    try {
      const loaded = await loadModel(spec.modelDir, { attentionSide: spec.attentionSide, experts: (layer) => spec.experts[layer] ?? [] });
      const model = residentModel(loaded.model, backend);
      const expert = model.experts.find((m) => m.size > 0)?.values().next().value;
      const sample = model.attentionSide?.lmHead ?? expert?.gate;
      return new RankModel(backend, model, sample?.dtype === 'bf16' ? 2 : 4);
    } catch (error) {
      backend.dispose();
      throw error;
    }
  }

  get config(): ModelConfig {
    return this.model.config;
  }

  /** In the backend's memory where it has room, so attention reads the cache in place. */
  newKv(capacity: number): RankKv {
    return KvCache.create(this.config, capacity, this.backend);
  }

  releaseKv(kv: RankKv): void {
    if (kv instanceof KvCache) kv.release();
  }

  embed(tokens: Int32Array): Tensor {
    return this.backend.gatherRows(this.model.attention().embedTokens, tokens);
  }

  attention(layer: number, hidden: Tensor, kv: RankKv): AttentionHalfResult {
    if (!(kv instanceof KvCache)) throw new TypeError('RankModel.attention: needs a KvCache');
    const half = attentionHalf(this.backend, this.model, layer, hidden, kv.layers[layer], this.region(hidden.rowCount));
    const moe = half.moe;
    if (!moe) return { hidden: half.hidden.clone() };
    const shared = moe.shared && { ...moe.shared, output: moe.shared.output.clone() };
    return { hidden: half.hidden.clone(), moe: { ...moe, expertInput: moe.expertInput.clone(), ...(shared && { shared }) } };
  }

  experts(layer: number, sources: readonly IncomingRows[], sizes?: ReadonlyMap<number, number>): ExpertBatchResult {
    // Each expert's output lives in the op region until the next expert's op: runExpertBatch copies it out first.
    const compute = (expert: number, rows: Tensor): Tensor => gatedFfn(this.backend, this.model.expert(layer, expert), rows, this.region(rows.rowCount));
    return runExpertBatch(sources, compute, sizes, {
      gathered: (shape) => {
        this.staging = emptied(this.staging, 'rank expert staging', Scratch.bytesFor([shape]), this.backend.arena);
        return this.staging.take(shape, 'f32', NOT_ZEROED);
      },
      outputs: (shapes) => {
        const outbox = (this.outbox = emptied(this.outbox, 'rank expert outputs', Scratch.bytesFor(shapes), this.backend.arena));
        return shapes.map((shape) => outbox.take(shape, 'f32', NOT_ZEROED));
      },
    });
  }

  combine(residual: Tensor, dispatch: MoeDispatch, slotOutputs: Tensor): Tensor {
    return combine(this.backend, residual, dispatch, slotOutputs, this.region(residual.rowCount)).clone();
  }

  /** The op region, emptied, with room for an op over `rows` rows. */
  private region(rows: number): Scratch {
    this.scratch = emptied(this.scratch, 'rank op scratch', layerScratchBytes(this.config, rows), this.backend.arena);
    return this.scratch;
  }

  finish(lastRow: Tensor): { firstToken: number; logits: Float32Array } {
    const logits = Float32Array.from(lmHeadLogits(this.backend, this.model, lastRow).toF32());
    return { firstToken: argmax(logits), logits };
  }

  dispose(): void {
    this.scratch?.release();
    this.scratch = undefined;
    this.staging?.release();
    this.staging = undefined;
    this.outbox?.release();
    this.outbox = undefined;
    this.backend.dispose();
  }
}

/** Every row a region hands out here is overwritten whole. */
const NOT_ZEROED = { zero: false } as const;

/** `region` emptied, or a new one of at least `bytes` where it has less room (a region grows, never shrinks). */
function emptied(region: Scratch | undefined, name: string, bytes: number, arena: Arena | undefined): Scratch {
  if (region && region.capacity >= bytes) {
    region.reset();
    return region;
  }
  region?.release();
  return Scratch.create(name, bytes, arena);
}
