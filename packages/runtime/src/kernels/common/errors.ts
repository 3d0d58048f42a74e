import type { DType } from '../../tensor/dtype.ts';
import type { BackendName, OpName } from '../backend.ts';

/** A backend asked for something it does not have: an unknown backend, a missing op, or a dtype it cannot read. */
export class KernelUnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelUnsupportedError';
  }

  static dtype(backend: BackendName, op: OpName, role: string, dtype: DType, accepted: readonly DType[]): KernelUnsupportedError {
    return new KernelUnsupportedError(
      `${backend} backend: ${op} cannot read ${role} of dtype ${dtype} (accepts ${accepted.join(', ') || 'nothing'})`,
    );
  }
}
