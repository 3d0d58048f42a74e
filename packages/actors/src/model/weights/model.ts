import type { Tensor } from '@asap/runtime';
import type { ModelConfig } from '../config/model-config.ts';
import type { AttentionSideParams, MlpParams } from './params.ts';

/**
 * A loaded MoE model: its config, the attention side (absent on a rank that only serves experts) and the
 * routed experts it holds, per layer (all of them, a subset, or none).
 */
export class MoeModel {
  readonly config: ModelConfig;
  /** Where it was loaded from (a directory), for messages. */
  readonly source: string;
  readonly attentionSide: AttentionSideParams<Tensor> | undefined;
  /** experts[layer] maps expert id → weights; empty for dense layers and experts not loaded. */
  readonly experts: readonly ReadonlyMap<number, MlpParams<Tensor>>[];

  constructor(
    config: ModelConfig,
    source: string,
    attentionSide: AttentionSideParams<Tensor> | undefined,
    experts: readonly ReadonlyMap<number, MlpParams<Tensor>>[],
  ) {
    if (experts.length !== config.numLayers) {
      throw new RangeError(`MoeModel: ${experts.length} expert maps for ${config.numLayers} layers`);
    }
    this.config = config;
    this.source = source;
    this.attentionSide = attentionSide;
    this.experts = experts;
  }

  /** The attention side; throws where this model was loaded without it. */
  attention(): AttentionSideParams<Tensor> {
    if (!this.attentionSide) throw new Error(`${this.source}: loaded without its attention-side weights`);
    return this.attentionSide;
  }

  hasExpert(layer: number, expert: number): boolean {
    return this.experts[layer]?.has(expert) ?? false;
  }

  /** Routed expert `expert` of layer `layer`; throws where it is not loaded here. */
  expert(layer: number, expert: number): MlpParams<Tensor> {
    const weights = this.experts[layer]?.get(expert);
    if (!weights) {
      const kind = this.config.layerKinds[layer];
      const why = kind === undefined ? 'no such layer' : kind === 'dense' ? 'a dense layer has no routed experts' : 'not loaded';
      throw new Error(`${this.source}: expert ${expert} of layer ${layer}: ${why}`);
    }
    return weights;
  }

  /** Ids of the experts held for a layer, ascending. */
  expertIds(layer: number): number[] {
    return [...(this.experts[layer]?.keys() ?? [])].sort((a, b) => a - b);
  }
}
