import { Tensor, elementCount } from '../../tensor/tensor.ts';

const SLAB_BYTES = 4 * 1024 * 1024;
const ALIGN = 64;

/**
 * Fresh f32 result tensors carved from large SharedArrayBuffers instead of one buffer each: allocating a
 * small SharedArrayBuffer costs tens of µs here (as much as a small expert matmul), a view of a big one
 * well under one. Memory is never reused, so every tensor is new and zero; a slab goes back to the
 * garbage collector with the last tensor in it. Results over a quarter slab get a buffer of their own.
 */
export class OutputSlab {
  private buffer: SharedArrayBuffer | undefined;
  private next = SLAB_BYTES;

  take(shape: readonly number[]): Tensor {
    const bytes = elementCount(shape) * 4;
    if (bytes > SLAB_BYTES / 4) return Tensor.zeros(shape, 'f32');
    if (!this.buffer || this.next + bytes > SLAB_BYTES) {
      this.buffer = new SharedArrayBuffer(SLAB_BYTES);
      this.next = 0;
    }
    const t = Tensor.over(this.buffer, this.next, shape, 'f32');
    this.next += Math.ceil(bytes / ALIGN) * ALIGN;
    return t;
  }
}
