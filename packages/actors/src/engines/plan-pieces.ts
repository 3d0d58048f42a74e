// Pieces every rank plan needs: expert placement from the options, and channel sizes from the model.
import type { ModelConfig } from '../model/config/model-config.ts';
import { type ExpertHolders, placeExperts } from '../ranks/expert-placement.ts';
import type { ExpertPlacementOptions } from './engine.ts';
import { EngineConfigError } from '../errors.ts';

export function expertHolders(c: ModelConfig, ranks: number, options: ExpertPlacementOptions = {}): ExpertHolders {
  try {
    const counts = options.routingCounts;
    return placeExperts(c, ranks, { counts, replicas: options.hotReplicas ?? (counts ? 2 : 0) });
  } catch (error) {
    throw new EngineConfigError(error instanceof Error ? error.message : String(error));
  }
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
