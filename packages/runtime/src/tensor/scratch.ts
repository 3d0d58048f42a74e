import { ArenaExhaustedError } from '../errors.ts';
import { roundUp } from '../memory/align.ts';
import type { AllocOptions, Arena } from './arena.ts';
import { type DType, bytesPerElement } from './dtype.ts';
import { Tensor, elementCount } from './tensor.ts';

/**
 * A bump region over one fixed block: `take` hands out tensors, `reset` (or `resetTo` a `mark`) takes them
 * all back at once. For activations whose lifetimes nest (a layer's intermediates, one expert's rows): no
 * per-tensor bookkeeping, no allocation per op, and the memory is fixed when the region is made.
 */
export class Scratch {
  private next = 0;
  private peak = 0;
  private block: Tensor | undefined;

  private constructor(
    readonly name: string,
    block: Tensor,
    private readonly arena: Arena | undefined,
  ) {
    this.block = block;
  }

  /** Bytes a region needs to hand out tensors of `shapes` one after another (`take` aligns each). */
  static bytesFor(shapes: readonly (readonly number[])[], dtype: DType = 'f32'): number {
    let bytes = 0;
    for (const shape of shapes) bytes += roundUp(Math.max(1, elementCount(shape) * bytesPerElement(dtype)));
    return bytes;
  }

  /**
   * A region of `bytes` carved from `arena` (e.g. a wasm backend's memory, so kernels compute on its tensors
   * in place), or fresh shared memory where there is no arena or it has no room: slower there, never wrong.
   */
  static create(name: string, bytes: number, arena?: Arena): Scratch {
    if (!Number.isInteger(bytes) || bytes <= 0) throw new RangeError(`scratch "${name}": size must be a positive integer of bytes, got ${bytes}`);
    const floats = roundUp(bytes) / 4;
    if (arena) {
      try {
        return new Scratch(name, arena.alloc([floats], 'f32', { zero: false }), arena);
      } catch (error) {
        if (!(error instanceof ArenaExhaustedError)) throw error;
      }
    }
    return new Scratch(name, Tensor.zeros([floats]), undefined);
  }

  get capacity(): number {
    return this.live().byteLength;
  }

  get used(): number {
    return this.next;
  }

  get peakUsed(): number {
    return this.peak;
  }

  /** Whether the region lives in `arena` (false: it fell back to fresh shared memory). */
  inArena(arena: Arena | undefined): boolean {
    return arena !== undefined && this.arena === arena;
  }

  /** A tensor in the region, zeroed unless told not to (an op's `out` is overwritten whole). */
  take(shape: readonly number[], dtype: DType = 'f32', options: AllocOptions = {}): Tensor {
    const block = this.live();
    const bytes = roundUp(Math.max(1, elementCount(shape) * bytesPerElement(dtype)));
    if (this.next + bytes > block.byteLength) {
      throw new RangeError(
        `scratch "${this.name}": [${shape.join(', ')}] ${dtype} needs ${bytes} bytes, ${block.byteLength - this.next} of ${block.byteLength} are left`,
      );
    }
    const at = block.byteOffset + this.next;
    this.next += bytes;
    this.peak = Math.max(this.peak, this.next);
    // Whole 64-byte blocks through 8-byte words: filling a shared buffer bytewise is several times slower.
    if (options.zero !== false) new Float64Array(block.buffer, at, bytes / 8).fill(0);
    return Tensor.over(block.buffer, at, shape, dtype);
  }

  /** The current fill, to hand back later with `resetTo`. */
  mark(): number {
    return this.next;
  }

  /** Takes back every tensor handed out since `mark`: they must no longer be used. */
  resetTo(mark: number): void {
    if (!Number.isInteger(mark) || mark < 0 || mark > this.next) throw new RangeError(`scratch "${this.name}": bad mark ${mark} (used ${this.next})`);
    this.next = mark;
  }

  /** Takes back every tensor handed out. */
  reset(): void {
    this.next = 0;
  }

  /** Returns the block to its arena; the scratch cannot be used after. */
  release(): void {
    const block = this.block;
    this.block = undefined;
    if (block && this.arena) this.arena.release(block);
  }

  private live(): Tensor {
    if (!this.block) throw new Error(`scratch "${this.name}": used after release()`);
    return this.block;
  }
}
