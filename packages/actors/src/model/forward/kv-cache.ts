import { Tensor } from '@asap/runtime';
import type { ModelConfig } from '../config/model-config.ts';

/** Widths of one layer's cached rows, per position. */
export interface KvWidths {
  readonly keys: number;
  readonly values: number;
}

/**
 * What one layer caches per position. Grouped-query attention: keys after RoPE and values, numKvHeads ·
 * headDim each. Multi-head latent attention (deepseek_v3), DeepSeek's own serving form: `keys` the shared
 * RoPE key after RoPE (qkRopeHeadDim, pairs de-interleaved) and `values` the compressed latent after
 * kv_a_layernorm (kvLoraRank), from which kv_b_proj expands every head's keys and values.
 */
export function kvWidths(config: ModelConfig): KvWidths {
  if (config.mla) return { keys: config.mla.qkRopeHeadDim, values: config.mla.kvLoraRank };
  const width = config.numKvHeads * config.headDim;
  return { keys: width, values: width };
}

/** Bytes the cache holds per prompt position over all layers (f32). */
export function kvBytesPerToken(config: ModelConfig): number {
  const { keys, values } = kvWidths(config);
  return config.numLayers * (keys + values) * 4;
}

/**
 * One layer's keys and values (see `kvWidths`), [capacity, width] each, filled from row 0.
 * Capacity is fixed at creation: memory is bounded by configuration, and a prompt that outgrows it is an error.
 */
export class LayerKv {
  readonly keys: Tensor;
  readonly values: Tensor;
  private filled = 0;

  constructor(capacity: number, width: number, valueWidth: number = width) {
    this.keys = Tensor.zeros([capacity, width]);
    this.values = Tensor.zeros([capacity, valueWidth]);
  }

  get capacity(): number {
    return this.keys.rowCount;
  }

  /** Positions held so far. */
  get length(): number {
    return this.filled;
  }

  /** Rows for positions [length, length + count): where the next chunk writes its keys and values. */
  reserve(count: number): { keys: Tensor; values: Tensor } {
    if (this.filled + count > this.capacity) {
      throw new RangeError(`KV cache: ${this.filled} + ${count} positions exceed its capacity of ${this.capacity}`);
    }
    return { keys: this.keys.rows(this.filled, this.filled + count), values: this.values.rows(this.filled, this.filled + count) };
  }

  /** Marks `count` reserved rows as written. */
  commit(count: number): void {
    if (this.filled + count > this.capacity) throw new RangeError(`KV cache: cannot commit past its capacity of ${this.capacity}`);
    this.filled += count;
  }

  /** Forgets the positions from `length` on: a chunk that failed half-way leaves no trace. */
  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.filled) {
      throw new RangeError(`KV cache: cannot truncate ${this.filled} positions to ${length}`);
    }
    this.filled = length;
  }

  /** Keys and values of every position held, as views. */
  get filledKeys(): Tensor {
    return this.keys.rows(0, this.filled);
  }

  get filledValues(): Tensor {
    return this.values.rows(0, this.filled);
  }
}

/** A request's KV cache: one `LayerKv` per layer. */
export class KvCache {
  readonly layers: readonly LayerKv[];

  private constructor(layers: readonly LayerKv[]) {
    this.layers = layers;
  }

  static create(config: ModelConfig, capacity: number): KvCache {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`KvCache: capacity must be a positive integer, got ${capacity}`);
    const { keys, values } = kvWidths(config);
    return new KvCache(Array.from({ length: config.numLayers }, () => new LayerKv(capacity, keys, values)));
  }

  /** Positions every layer holds (the prompt prefilled so far). */
  get length(): number {
    return Math.min(...this.layers.map((l) => l.length));
  }

  get capacity(): number {
    return this.layers[0].capacity;
  }
}
