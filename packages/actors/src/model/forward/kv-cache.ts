import { Tensor } from '@asap/runtime';
import type { ModelConfig } from '../config/model-config.ts';

/**
 * One layer's keys (after RoPE) and values, [capacity, numKvHeads * headDim] each, filled from row 0.
 * Capacity is fixed at creation: memory is bounded by configuration, and a prompt that outgrows it is an error.
 */
export class LayerKv {
  readonly keys: Tensor;
  readonly values: Tensor;
  private filled = 0;

  constructor(capacity: number, width: number) {
    this.keys = Tensor.zeros([capacity, width]);
    this.values = Tensor.zeros([capacity, width]);
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
    const width = config.numKvHeads * config.headDim;
    return new KvCache(Array.from({ length: config.numLayers }, () => new LayerKv(capacity, width)));
  }

  /** Positions every layer holds (the prompt prefilled so far). */
  get length(): number {
    return Math.min(...this.layers.map((l) => l.length));
  }

  get capacity(): number {
    return this.layers[0].capacity;
  }
}
