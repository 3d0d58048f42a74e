import type { Tensor } from '../../tensor/tensor.ts';
import type { RopeOptions } from '../backend.ts';

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

/** `scaling` multiplies cos and sin after rounding, as Hugging Face applies YaRN's attention factor. */
function fill(table: RopeTable, inv: Float32Array, scaling: number): void {
  const { half } = table;
  const cos = table.cos.data as Float32Array;
  const sin = table.sin.data as Float32Array;
  const m = f(scaling);
  for (let p = 0; p < table.positions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = f(p * inv[i]);
      cos[p * half + i] = m === 1 ? f(Math.cos(angle)) : f(f(Math.cos(angle)) * m);
      sin[p * half + i] = m === 1 ? f(Math.sin(angle)) : f(f(Math.sin(angle)) * m);
    }
  }
}

/** Given inverse frequencies (scaled RoPE) are told apart by identity: a model passes the same array every call. */
const givenFrequencies = new WeakMap<Float32Array, number>();
let nextFrequencyId = 0;

function tableKey(options: RopeOptions, rotaryDim: number): string {
  const scaling = options.attentionScaling ?? 1;
  const inv = options.inverseFrequencies;
  if (!inv) return `${rotaryDim}:${options.theta}:${scaling}`;
  let id = givenFrequencies.get(inv);
  if (id === undefined) givenFrequencies.set(inv, (id = nextFrequencyId++));
  return `${rotaryDim}:inv${id}:${scaling}`;
}

/**
 * One backend's RoPE tables, one per (rotaryDim, frequencies, scaling), built once and reused by every call
 * (q and k, every layer, every chunk). A table covers the positions seen so far and doubles when a later
 * position needs more, so its size is bounded by the longest prompt run, not by the number of calls.
 */
export class RopeTables {
  private readonly tables = new Map<string, { table: RopeTable; inv: Float32Array }>();

  constructor(private readonly memory: RopeTableMemory) {}

  /** The table for these options covering position `maxPosition`. */
  table(options: RopeOptions, rotaryDim: number, maxPosition: number): RopeTable {
    const key = tableKey(options, rotaryDim);
    const held = this.tables.get(key);
    if (held && maxPosition < held.table.positions) return held.table;
    const inv = held?.inv ?? options.inverseFrequencies ?? inverseFrequency(rotaryDim, options.theta);
    const positions = Math.max(maxPosition + 1, 2 * (held?.table.positions ?? 0), 256);
    const half = rotaryDim / 2;
    const table = { half, positions, cos: this.memory.alloc(positions * half), sin: this.memory.alloc(positions * half) };
    fill(table, inv, options.attentionScaling ?? 1);
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

/** Each row's cos and sin [rows, half], gathered from `table` by position (for kernels that take them per row). */
export function rowAngles(table: RopeTable, positions: Int32Array, rows: number): { cos: Float32Array; sin: Float32Array } {
  const { half } = table;
  const cos = new Float32Array(rows * half);
  const sin = new Float32Array(rows * half);
  for (let r = 0; r < rows; r++) {
    const p = positions[r] * half;
    cos.set((table.cos.data as Float32Array).subarray(p, p + half), r * half);
    sin.set((table.sin.data as Float32Array).subarray(p, p + half), r * half);
  }
  return { cos, sin };
}
