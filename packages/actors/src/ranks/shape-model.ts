// Numerics off: a rank that carries shapes instead of values. Rows are [rows, 0] tensors, routing comes
// from the popularity model, and every op still reports its FLOPs and bytes, so the sim host charges the
// same time it would for real weights. No checkpoint weights are read: config.json is enough.
import type { Tensor } from '@asap/runtime';
import { type ExpertBatchResult, type IncomingRows, runExpertBatch, shapeRows } from './dispatch-rows.ts';
import type { ModelConfig } from '../model/config/model-config.ts';
import type { AttentionHalfResult, MoeDispatch } from '../model/forward/attention-half.ts';
import { ExpertPopularity, type PopularityOptions } from './expert-popularity.ts';
import type { RankCompute, RankKv } from './rank-model.ts';

export class ShapeModel implements RankCompute {
  readonly numerics = false;
  private readonly popularity: ExpertPopularity;

  constructor(
    readonly config: ModelConfig,
    readonly weightBytes: number,
    popularity: PopularityOptions,
    private readonly random: () => number,
  ) {
    this.popularity = new ExpertPopularity(config, popularity);
  }

  newKv(capacity: number): RankKv {
    return { capacity };
  }

  releaseKv(): void {}

  embed(tokens: Int32Array): Tensor {
    return shapeRows(tokens.length);
  }

  attention(layer: number, hidden: Tensor): AttentionHalfResult {
    if (this.config.layerKinds[layer] !== 'moe') return { hidden };
    const { topK } = this.config;
    const routing = { topK, experts: new Int32Array(0), weights: new Float32Array(0) };
    return { hidden, moe: { layer, expertInput: hidden, routing, expertCounts: this.popularity.counts(layer, hidden.rowCount, this.random) } };
  }

  experts(_layer: number, sources: readonly IncomingRows[], sizes?: ReadonlyMap<number, number>): ExpertBatchResult {
    return runExpertBatch(sources, (_expert, rows) => rows, sizes);
  }

  combine(residual: Tensor, _dispatch: MoeDispatch, _slotOutputs: Tensor): Tensor {
    return residual;
  }

  finish(): { firstToken: number; logits: Float32Array } {
    return { firstToken: -1, logits: new Float32Array(0) };
  }

  dispose(): void {}
}
