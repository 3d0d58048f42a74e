// The model as a rank holds it: the attention side and/or a subset of routed experts, resident in one
// backend. Ranks compute only through these calls, which are the reference forward's own pieces.
import { type Backend, type BackendName, type Tensor, createBackend } from '@asap/runtime';
import type { ModelConfig } from '../model/config/model-config.ts';
import { type AttentionHalfResult, type MoeDispatch, attentionHalf } from '../model/forward/attention-half.ts';
import { combine } from '../model/forward/combine.ts';
import { gatedFfn } from '../model/forward/gated-ffn.ts';
import type { LayerKv } from '../model/forward/kv-cache.ts';
import { argmax, lmHeadLogits } from '../model/forward/lm-head.ts';
import type { MoeModel } from '../model/weights/model.ts';
import { loadModel } from '../model/weights/load.ts';
import { residentModel } from '../model/weights/resident.ts';

export interface RankModelSpec {
  /** Checkpoint directory (config.json + safetensors). */
  readonly modelDir: string;
  readonly backend: BackendName;
  /** Load the attention side (embeddings, attention, routers, shared/dense MLPs, LM head). */
  readonly attentionSide: boolean;
  /** Routed experts held, per layer (empty for dense layers). */
  readonly experts: readonly (readonly number[])[];
}

export class RankModel {
  private constructor(
    readonly backend: Backend,
    readonly model: MoeModel,
    /** Bytes per stored weight element of the matmul weights (4 for f32, 2 for bf16). */
    readonly weightBytes: number,
  ) {}

  static async load(spec: RankModelSpec): Promise<RankModel> {
    const backend = await createBackend(spec.backend);
    try {
      const loaded = await loadModel(spec.modelDir, { attentionSide: spec.attentionSide, experts: (layer) => spec.experts[layer] ?? [] });
      const model = residentModel(loaded.model, backend);
      const sample = model.attentionSide?.layers[0]?.attention.q ?? model.experts.find((m) => m.size > 0)?.values().next().value?.gate;
      return new RankModel(backend, model, sample?.dtype === 'bf16' ? 2 : 4);
    } catch (error) {
      backend.dispose();
      throw error;
    }
  }

  get config(): ModelConfig {
    return this.model.config;
  }

  embed(tokens: Int32Array): Tensor {
    return this.backend.gatherRows(this.model.attention().embedTokens, tokens);
  }

  attention(layer: number, hidden: Tensor, kv: LayerKv): AttentionHalfResult {
    return attentionHalf(this.backend, this.model, layer, hidden, kv);
  }

  expert(layer: number, expert: number, rows: Tensor): Tensor {
    return gatedFfn(this.backend, this.model.expert(layer, expert), rows);
  }

  combine(residual: Tensor, dispatch: MoeDispatch, slotOutputs: Tensor): Tensor {
    return combine(this.backend, residual, dispatch, slotOutputs);
  }

  /** The last position's logits and their argmax. */
  finish(lastRow: Tensor): { firstToken: number; logits: Float32Array } {
    const logits = Float32Array.from(lmHeadLogits(this.backend, this.model, lastRow).toF32());
    return { firstToken: argmax(logits), logits };
  }

  dispose(): void {
    this.backend.dispose();
  }
}
