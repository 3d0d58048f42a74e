// Pieces every rank plan needs: expert placement from the options, and channel sizes from the model.
import type { ModelConfig } from '../model/config/model-config.ts';
import { type ExpertHolders, placeExperts } from '../ranks/expert-placement.ts';
import { attentionOp, expertOp } from '../ranks/op-costs.ts';
import type { ExpertPlacementOptions } from './engine.ts';
import { EngineConfigError } from '../errors.ts';

export function expertHolders(c: ModelConfig, ranks: number, options: ExpertPlacementOptions = {}): ExpertHolders {
  try {
    return placeExperts(c, ranks, { counts: options.routingCounts, redundant: redundantExperts(c, options) });
  } catch (error) {
    throw new EngineConfigError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * Redundant copies per layer: as given, else one per eight experts when routing counts say which are hot
 * (DeepSeek-V3's prefill deployment: 32 for 256 experts), else none.
 */
export function redundantExperts(c: ModelConfig, options: ExpertPlacementOptions = {}): number {
  return options.redundantExperts ?? (options.routingCounts ? Math.ceil(c.numExperts / 8) : 0);
}

/**
 * A ring must hold the largest message: a dispatch or combine of `tokens` rows × top-k slots, or a request's
 * tokens, or the logits; at least 1 MiB.
 */
export function messageRingBytes(c: ModelConfig, tokens: number): number {
  const rows = tokens * c.topK * c.hiddenSize * 4;
  const prompt = c.maxPositionEmbeddings * 4;
  const logits = c.vocabSize * 4;
  return Math.max(1 << 20, Math.max(rows, prompt, logits) + 64 * 1024);
}

/** Cost per queued token and per token × context position (FLOPs), for the gateway's placement. */
export function placementCosts(c: ModelConfig): { tokenCost: number; contextCost: number } {
  let tokenCost = 0;
  for (let layer = 0; layer < c.numLayers; layer++) {
    tokenCost += attentionOp(c, layer, 1, 0, 4).flops ?? 0;
    if (c.layerKinds[layer] === 'moe') tokenCost += c.topK * (expertOp(c, 1, 4).flops ?? 0);
  }
  return { tokenCost, contextCost: 4 * c.numLayers * c.numHeads * c.headDim };
}

