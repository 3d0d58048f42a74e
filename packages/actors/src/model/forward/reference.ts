import type { Backend, Tensor } from '@asap/runtime';
import type { MoeModel } from '../weights/model.ts';
import { attentionHalf } from './attention-half.ts';
import { combine } from './combine.ts';
import { KvCache } from './kv-cache.ts';
import { argmax, lmHeadLogits } from './lm-head.ts';
import { runLocalExperts } from './local-experts.ts';
import { checkPrompt } from './prompt.ts';

export interface ReferencePrefillOptions {
  /** Continue a prompt already partly prefilled into this cache (chunked prefill); a new cache sized to the prompt otherwise. */
  readonly kv?: KvCache;
  /** Also return the logits of every position of this chunk (default: the last position only). */
  readonly allPositions?: boolean;
}

export interface PrefillResult {
  /** argmax of the last position's logits, the lowest id on ties. */
  readonly firstToken: number;
  /** Logits of the last position, [vocab]. */
  readonly logits: Float32Array;
  /** Keys (after RoPE) and values per layer, for every position prefilled. */
  readonly kv: KvCache;
  /** [T, vocab] for this chunk's positions, when `allPositions`. */
  readonly allLogits?: Tensor;
}

/**
 * The oracle: one thread, one backend, the layers in order, each MoE layer split exactly as the engines
 * split it (attention half → routed experts → combine in slot order). Needs the attention side and every
 * routed expert loaded.
 */
export function referencePrefill(
  backend: Backend,
  model: MoeModel,
  tokens: ArrayLike<number>,
  options: ReferencePrefillOptions = {},
): PrefillResult {
  const ids = checkPrompt(tokens, model.config.vocabSize, model.config.maxPositionEmbeddings, options.kv?.length ?? 0);
  const kv = options.kv ?? KvCache.create(model.config, ids.length);
  let hidden = backend.gatherRows(model.attention().embedTokens, ids);
  const lengthsBefore = kv.layers.map((l) => l.length);
  try {
    for (let layer = 0; layer < model.config.numLayers; layer++) {
      const half = attentionHalf(backend, model, layer, hidden, kv.layers[layer]);
      hidden = half.moe ? combine(backend, half.hidden, half.moe, runLocalExperts(backend, model, half.moe)) : half.hidden;
    }
  } catch (error) {
    // The layers before the failing one already appended this chunk: roll them back so the cache stays usable.
    kv.layers.forEach((l, i) => l.truncate(lengthsBefore[i]));
    throw error;
  }
  const last = ids.length - 1;
  const allLogits = options.allPositions ? lmHeadLogits(backend, model, hidden) : undefined;
  const lastLogits = allLogits ? allLogits.row(last) : lmHeadLogits(backend, model, hidden.row(last));
  const logits = Float32Array.from(lastLogits.toF32());
  return { firstToken: argmax(logits), logits, kv, allLogits };
}
