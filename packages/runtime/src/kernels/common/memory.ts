// Allocation in the memory a backend computes on, for any backend: its arena when it has one and there is
// room, fresh shared memory otherwise (slower on wasm, where operands outside its memory are copied; never wrong).
import { ArenaExhaustedError } from '../../errors.ts';
import type { DType } from '../../tensor/dtype.ts';
import { Tensor } from '../../tensor/tensor.ts';
import type { Backend } from '../backend.ts';

/** A zeroed tensor the backend's kernels read and write in place. Give it back with `releaseBackendTensor`. */
export function backendTensor(backend: Backend, shape: readonly number[], dtype: DType = 'f32'): Tensor {
  if (backend.arena) {
    try {
      return backend.arena.alloc(shape, dtype);
    } catch (error) {
      if (!(error instanceof ArenaExhaustedError)) throw error;
    }
  }
  return Tensor.zeros(shape, dtype);
}

/** Returns a tensor from `backendTensor` to the backend's arena (nothing to do for fresh memory). */
export function releaseBackendTensor(backend: Backend, t: Tensor): void {
  if (backend.arena?.owns(t)) backend.arena.release(t);
}
