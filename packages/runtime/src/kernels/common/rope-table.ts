import type { Tensor } from '../../tensor/tensor.ts';

const f = Math.fround;

/** cos/sin per (position, frequency): row p holds position p's rotaryDim/2 values, in f32 as Hugging Face computes them. */
export interface RopeTable {
  readonly half: number;
  /** Positions 0..positions-1 are in the table. */
  readonly positions: number;
  readonly cos: Tensor;
  readonly sin: Tensor;
}

/** Where a backend keeps its tables: plain memory, or memory its kernels read in place. */
export interface RopeTableMemory {
  alloc(floats: number): Tensor;
  release(t: Tensor): void;
}

/** inv_freq[i] = 1 / theta^(2i / rotaryDim), each step rounded to f32 as torch does. */
function inverseFrequency(rotaryDim: number, theta: number): Float32Array {
  const inv = new Float32Array(rotaryDim / 2);
  for (let i = 0; i < inv.length; i++) inv[i] = f(1 / f(Math.pow(f(theta), f((2 * i) / rotaryDim))));
  return inv;
}

function fill(table: RopeTable, inv: Float32Array): void {
  const { half } = table;
  const cos = table.cos.data as Float32Array;
  const sin = table.sin.data as Float32Array;
  for (let p = 0; p < table.positions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = f(p * inv[i]);
      cos[p * half + i] = f(Math.cos(angle));
      sin[p * half + i] = f(Math.sin(angle));
    }
  }
}

/**
 * One backend's RoPE tables, one per (rotaryDim, theta), built once and reused by every call (q and k, every
 * layer, every chunk). A table covers the positions seen so far and doubles when a later position needs
 * more, so its size is bounded by the longest prompt run, not by the number of calls.
 */
export class RopeTables {
  private readonly tables = new Map<string, { table: RopeTable; inv: Float32Array }>();

  constructor(private readonly memory: RopeTableMemory) {}

  /** The table for (rotaryDim, theta) covering position `maxPosition`. */
  table(rotaryDim: number, theta: number, maxPosition: number): RopeTable {
    const key = `${rotaryDim}:${theta}`;
    const held = this.tables.get(key);
    if (held && maxPosition < held.table.positions) return held.table;
    const inv = held?.inv ?? inverseFrequency(rotaryDim, theta);
    const positions = Math.max(maxPosition + 1, 2 * (held?.table.positions ?? 0), 256);
    const half = rotaryDim / 2;
    const table = { half, positions, cos: this.memory.alloc(positions * half), sin: this.memory.alloc(positions * half) };
    fill(table, inv);
    if (held) this.release(held.table);
    this.tables.set(key, { table, inv });
    return table;
  }

  /** Returns every table's memory. */
  clear(): void {
    for (const { table } of this.tables.values()) this.release(table);
    this.tables.clear();
  }

  private release(table: RopeTable): void {
    this.memory.release(table.cos);
    this.memory.release(table.sin);
  }
}
