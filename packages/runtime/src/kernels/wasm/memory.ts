import { CACHE_LINE, roundUp } from '../../memory/align.ts';
import { Arena } from '../../tensor/arena.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { type SharedMemory, webAssembly } from './api.ts';

const PAGE = 65536;

/**
 * One call's temporary space: a bump allocator over a block that is reserved for the whole call (sized up
 * front, so earlier pointers stay valid).
 */
export class Bump {
  private next: number;

  constructor(
    private readonly base: number,
    private readonly end: number,
  ) {
    this.next = base;
  }

  take(bytes: number): number {
    const at = this.next;
    this.next += roundUp(bytes);
    if (this.next > this.end) throw new Error(`wasm backend: scratch overflow (${this.next - this.base} > ${this.end - this.base} bytes)`);
    return at;
  }
}

/**
 * A fixed shared WebAssembly.Memory: the kernels read tensors that live in it in place. An Arena carves it
 * for resident tensors; one scratch block (kept between calls, grown when a call needs more) holds copies
 * of operands that live elsewhere and the kernels' temporaries.
 */
export class WasmMemory {
  readonly memory: SharedMemory;
  readonly buffer: SharedArrayBuffer;
  readonly arena: Arena;
  private scratch: Tensor | undefined;

  constructor(bytes: number, reservedLow: number) {
    if (!Number.isInteger(bytes) || bytes < 4 * PAGE || bytes > 65536 * PAGE) {
      throw new RangeError(`wasm backend: memoryBytes ${bytes} must be an integer in 256 KiB..4 GiB`);
    }
    const pages = Math.ceil(bytes / PAGE);
    this.memory = new webAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    this.buffer = this.memory.buffer;
    const base = roundUp(Math.max(reservedLow, PAGE));
    this.arena = new Arena({ name: 'wasm backend memory', buffer: this.buffer, byteOffset: base, bytes: pages * PAGE - base });
  }

  /** Whether the kernels can read `t` in place. */
  holds(t: Tensor): boolean {
    return t.buffer === this.buffer;
  }

  /** Bytes a call must reserve to copy `t` in (0 when it is already here). */
  copyBytes(t: Tensor): number {
    return this.holds(t) ? 0 : roundUp(t.byteLength);
  }

  /** A scratch block of at least `bytes` for one call. */
  reserve(bytes: number): Bump {
    const need = Math.max(CACHE_LINE, roundUp(bytes));
    if (!this.scratch || this.scratch.byteLength < need) {
      if (this.scratch) this.arena.release(this.scratch);
      this.scratch = undefined;
      this.scratch = this.arena.alloc([need / 4], 'f32');
    }
    return new Bump(this.scratch.byteOffset, this.scratch.byteOffset + this.scratch.byteLength);
  }

  /** The pointer of `t` for a kernel: in place, or a copy in `bump`. */
  place(t: Tensor, bump: Bump): number {
    if (this.holds(t)) return t.byteOffset;
    const at = bump.take(t.byteLength);
    new Uint8Array(this.buffer, at, t.byteLength).set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
    return at;
  }

  /** f32 or i32 values copied into `bump`. */
  placeValues(values: Float32Array | Int32Array, bump: Bump): number {
    const at = bump.take(values.byteLength);
    if (values instanceof Float32Array) new Float32Array(this.buffer, at, values.length).set(values);
    else new Int32Array(this.buffer, at, values.length).set(values);
    return at;
  }

  /** Copies `bytes` at `from` (in this memory) into `t`, unless `t` is that memory already. */
  copyOut(from: number, t: Tensor): void {
    if (this.holds(t) && t.byteOffset === from) return;
    new Uint8Array(t.buffer, t.byteOffset, t.byteLength).set(new Uint8Array(this.buffer, from, t.byteLength));
  }
}
