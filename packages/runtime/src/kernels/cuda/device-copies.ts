import type { Tensor } from '../../tensor/tensor.ts';
import type { CudaContext, DeviceOperand } from './addon.ts';

/**
 * The device copies of one backend's resident tensors (weights), keyed by the tensor: uploaded once by
 * `resident`, read in place by every later op. A copy is a snapshot: host writes after `resident` are not
 * seen (weights never change). When a tensor is collected its copy is freed; `clear` frees them all.
 */
export class DeviceCopies {
  private readonly handles = new WeakMap<Tensor, number>();
  private readonly live = new Set<number>();
  private readonly collected = new FinalizationRegistry<number>((handle) => this.free(handle));

  constructor(private readonly context: () => CudaContext | undefined) {}

  upload(t: Tensor): void {
    const context = this.context();
    if (!context || this.handles.has(t)) return;
    const handle = context.upload(t.data as Float32Array | Uint16Array);
    this.handles.set(t, handle);
    this.live.add(handle);
    this.collected.register(t, handle);
  }

  /** The resident copy's handle, or the host array (copied in for this call only). */
  operand(t: Tensor): DeviceOperand {
    return this.handles.get(t) ?? (t.data as Float32Array | Uint16Array);
  }

  clear(): void {
    for (const handle of [...this.live]) this.free(handle);
  }

  private free(handle: number): void {
    if (!this.live.delete(handle)) return;
    this.context()?.release(handle);
  }
}
