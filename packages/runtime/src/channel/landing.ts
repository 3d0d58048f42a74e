// Where a receiver puts the tensors it copies out of the ring. The receiver owns them: the ring slot is
// reused as soon as the copy is done.
import { ArenaExhaustedError } from '../errors.ts';
import type { Arena } from '../tensor/arena.ts';
import { Tensor } from '../tensor/tensor.ts';
import { roundUp } from '../memory/align.ts';
import type { RecordHeader } from './record.ts';

/** Messages with at most this many bytes of rows share a slab instead of each getting its own buffer. */
const SMALL_MESSAGE_BYTES = 4096;
const SLAB_BYTES = 64 * 1024;
/** Every landed tensor is overwritten whole by the copy out of the ring: zeroing it first is wasted. */
const UNZEROED = { zero: false } as const;

/**
 * Fresh shared memory per message, reclaimed by GC once the receiver drops the tensors. Small messages are
 * carved from a 64 KiB slab (a SharedArrayBuffer costs about a microsecond to make, more than the copy), so
 * a small tensor kept alive keeps its slab alive: at most 64 KiB each.
 */
export class FreshLanding {
  private slab = new SharedArrayBuffer(SLAB_BYTES);
  private slabUsed = 0;

  place(header: RecordHeader): Tensor[] {
    if (header.tensors.length === 0) return [];
    let buffer: SharedArrayBuffer;
    let offset: number;
    if (header.tensorBytes <= SMALL_MESSAGE_BYTES) {
      if (this.slabUsed + header.tensorBytes > SLAB_BYTES) {
        this.slab = new SharedArrayBuffer(SLAB_BYTES);
        this.slabUsed = 0;
      }
      buffer = this.slab;
      offset = this.slabUsed;
      this.slabUsed += header.tensorBytes;
    } else {
      buffer = new SharedArrayBuffer(header.tensorBytes);
      offset = 0;
    }
    const out: Tensor[] = [];
    for (const t of header.tensors) {
      out.push(Tensor.over(buffer, offset, t.shape, t.dtype));
      offset += roundUp(t.byteLength);
    }
    return out;
  }
}

/**
 * Tensors from the receiver's arena. `place` returns undefined when the arena is full; the receiver then
 * stops reading (the ring fills and the sender waits) until `whenPlaced` gets the memory.
 */
export class ArenaLanding {
  constructor(
    private readonly arena: Arena,
    private readonly channel: string,
  ) {}

  place(header: RecordHeader): Tensor[] | undefined {
    this.checkFits(header);
    const out: Tensor[] = [];
    for (const t of header.tensors) {
      try {
        out.push(this.arena.alloc(t.shape, t.dtype, UNZEROED));
      } catch (error) {
        for (const placed of out) this.arena.release(placed);
        if (error instanceof ArenaExhaustedError) return undefined;
        throw error;
      }
    }
    return out;
  }

  /**
   * Waits for the arena to free enough for the whole message, then allocates it at once: two receivers sharing
   * an arena never each hold half a message while waiting for the rest.
   */
  async whenPlaced(header: RecordHeader, signal?: AbortSignal): Promise<Tensor[]> {
    this.checkFits(header);
    return this.arena.allocAllWhenFree(header.tensors, { ...UNZEROED, signal });
  }

  /** Gives back tensors that were never delivered (the channel ended half-way through a message). */
  release(tensors: readonly Tensor[]): void {
    for (const t of tensors) this.arena.release(t);
  }

  private checkFits(header: RecordHeader): void {
    if (header.tensorBytes > this.arena.budgetBytes) {
      throw new ArenaExhaustedError(
        `${this.arena.name} (receiving on channel "${this.channel}")`,
        header.tensorBytes,
        this.arena.free,
        this.arena.budgetBytes,
      );
    }
  }
}
