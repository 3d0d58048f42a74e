import { type Backend, Tensor, backendTensor, releaseBackendTensor } from '@asap/runtime';
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

  /** In `backend`'s memory when given (attention then reads it in place), else in fresh shared memory. */
  constructor(capacity: number, width: number, valueWidth: number = width, backend?: Backend) {
    const alloc = (w: number): Tensor => (backend ? backendTensor(backend, [capacity, w]) : Tensor.zeros([capacity, w]));
    this.keys = alloc(width);
    this.values = alloc(valueWidth);
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

/**
 * A request's KV cache: one `LayerKv` per layer. Made with a backend, it lives in that backend's memory
 * (for wasm: attention reads it in place instead of copying every filled row in per call) and must be given
 * back with `release()` when the request is done; without one it is plain shared memory, freed with it.
 */
export class KvCache {
  readonly layers: readonly LayerKv[];
  private owner: Backend | undefined;
  private released = false;

  private constructor(layers: readonly LayerKv[], owner: Backend | undefined) {
    this.layers = layers;
    this.owner = owner;
  }

  static create(config: ModelConfig, capacity: number, backend?: Backend): KvCache {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`KvCache: capacity must be a positive integer, got ${capacity}`);
    const { keys, values } = kvWidths(config);
    return new KvCache(Array.from({ length: config.numLayers }, () => new LayerKv(capacity, keys, values, backend)), backend);
  }

  /** Whether `release()` was called: the cache must not be used after. */
  get isReleased(): boolean {
    return this.released;
  }

  /** Returns the cache's memory to the backend it was made in (a no-op for plain memory, and the second time). */
  release(): void {
    if (this.released) return;
    this.released = true;
    const owner = this.owner;
    this.owner = undefined;
    if (owner) for (const l of this.layers) for (const t of [l.keys, l.values]) releaseBackendTensor(owner, t);
  }

  /** Positions every layer holds (the prompt prefilled so far). */
  get length(): number {
    return Math.min(...this.layers.map((l) => l.length));
  }

  get capacity(): number {
    return this.layers[0].capacity;
  }
}
