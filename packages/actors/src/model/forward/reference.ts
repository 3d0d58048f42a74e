import { type Backend, Scratch, type Tensor } from '@asap/runtime';
import type { MoeModel } from '../weights/model.ts';
import { layerScratchBytes } from './activations.ts';
import { attentionHalf } from './attention-half.ts';
import { combine } from './combine.ts';
import { KvCache } from './kv-cache.ts';
import { argmax, lmHeadLogits } from './lm-head.ts';
import { runLocalExperts } from './local-experts.ts';
import { checkPrompt } from './prompt.ts';

export interface ReferencePrefillOptions {
  /**
   * Continue a prompt already partly prefilled into this cache (chunked prefill); otherwise a new cache sized
   * to the prompt is made in the backend's memory, and the caller gives it back with `result.kv.release()`.
   * Make it with `KvCache.create(config, capacity, backend)` so the wasm backend reads it in place.
   */
  readonly kv?: KvCache;
  /** Also return the logits of every position of this chunk (default: the last position only). */
  readonly allPositions?: boolean;
}

export interface PrefillResult {
  /** argmax of the last position's logits, the lowest id on ties. */
  readonly firstToken: number;
  /** Logits of the last position, [vocab]. */
  readonly logits: Float32Array;
  /** Keys (after RoPE) and values per layer, for every position prefilled (`release()` it when it was made here). */
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
  const c = model.config;
  const ids = checkPrompt(tokens, c.vocabSize, c.maxPositionEmbeddings, options.kv?.length ?? 0);
  if (options.kv?.isReleased) throw new Error('referencePrefill: the KV cache was released');
  const kv = options.kv ?? KvCache.create(c, ids.length, backend);
  // Two scratch regions in turn: layer L computes in region L % 2 (reset first) and reads its input from the
  // other one, which holds layer L-1's output (or the embeddings). Nothing is allocated per op.
  const bytes = layerScratchBytes(c, ids.length);
  const regions = [Scratch.create('prefill layer scratch (even)', bytes, backend.arena), Scratch.create('prefill layer scratch (odd)', bytes, backend.arena)];
  const lengthsBefore = kv.layers.map((l) => l.length);
  try {
    let hidden = backend.gatherRows(model.attention().embedTokens, ids, regions[1].take([ids.length, c.hiddenSize], 'f32', { zero: false }));
    try {
      for (let layer = 0; layer < c.numLayers; layer++) {
        const scratch = regions[layer % 2];
        scratch.reset();
        const half = attentionHalf(backend, model, layer, hidden, kv.layers[layer], scratch);
        hidden = half.moe ? combine(backend, half.hidden, half.moe, runLocalExperts(backend, model, half.moe, scratch), scratch) : half.hidden;
      }
    } catch (error) {
      // The layers before the failing one already appended this chunk: roll them back so the cache stays usable.
      kv.layers.forEach((l, i) => l.truncate(lengthsBefore[i]));
      if (!options.kv) kv.release();
      throw error;
    }
    const last = ids.length - 1;
    const allLogits = options.allPositions ? lmHeadLogits(backend, model, hidden) : undefined;
    const lastLogits = allLogits ? allLogits.row(last) : lmHeadLogits(backend, model, hidden.row(last));
    const logits = Float32Array.from(lastLogits.toF32());
    return { firstToken: argmax(logits), logits, kv, allLogits };
  } finally {
    for (const region of regions) region.release();
  }
}
