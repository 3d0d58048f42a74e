// Dispatch and combine as data movement: which rows of which chunk go to which expert rank, how an expert
// rank batches the rows it received from every source, and where the outputs land back. Shared by the
// sync and asap engines; only when they wait differs.
import { type ChannelMessage, Tensor } from '@asap/runtime';
import type { MoeDispatch } from '../model/forward/attention-half.ts';
import { slotOutputsFor } from '../model/forward/combine.ts';
import { rowsByExpert } from '../model/forward/dispatch.ts';
import type { ExpertGroup } from './messages.ts';

/** The rows one source sends one destination for one layer, grouped by expert ascending. */
export interface OutgoingRows {
  readonly groups: readonly ExpertGroup[];
  /** [rows, hidden], group after group. */
  readonly rows: Tensor;
  /** Per row: the chunk (index into the source's list) and the slot (t * topK + s) it answers. */
  readonly chunkOf: Int32Array;
  readonly slotOf: Int32Array;
  /** Rows counted, not routed (numerics off): each run of rows' chunk in row order, [chunk, rows][], and no chunkOf/slotOf. */
  readonly countedRuns?: readonly (readonly [number, number])[];
}

/** Rows an expert rank received from one source: what the combine reply answers, in the same order. */
export interface IncomingRows {
  readonly groups: readonly ExpertGroup[];
  readonly rows: Tensor;
}

/** Picks the rank that computes `rows` rows of `expert` (one, or a counted group), among the ranks holding it. */
export type ReplicaChoice = (expert: number, holders: readonly number[], rows: number) => number;

/** Copies one row of `width` floats; a plain loop (no subarray view per row: this runs for every routed row). */
function copyRow(dst: Float32Array, dstRow: number, src: Float32Array, srcRow: number, width: number): void {
  const d = dstRow * width;
  const s = srcRow * width;
  for (let i = 0; i < width; i++) dst[d + i] = src[s + i];
}

/**
 * Splits the routed rows of `dispatches` (one per chunk, same layer) by destination rank. Each row goes to
 * one holder of its expert, picked by `choose`.
 */
export function planDispatch(
  dispatches: readonly MoeDispatch[],
  holders: readonly (readonly number[])[],
  ranks: number,
  choose: ReplicaChoice,
): OutgoingRows[] {
  if (dispatches.some((d) => d.expertCounts)) return planCounted(dispatches, holders, ranks, choose);
  // The rows' width: the hidden size, or 0 when rows are shapes only.
  const hidden = dispatches[0]?.expertInput.rowSize ?? 0;
  // per destination: expert → [chunk, slot, token] triples; made for destinations that get rows only (a
  // rank with no work still plans its empty batch at every layer of a lock-step engine)
  const byDest = new Array<Map<number, number[]> | undefined>(ranks).fill(undefined);
  dispatches.forEach((dispatch, chunk) => {
    for (const { expert, slots, tokens } of rowsByExpert(dispatch.routing)) {
      const where = holders[expert];
      if (!where || where.length === 0) throw new Error(`dispatch: expert ${expert} of layer ${dispatch.layer} is held by no rank`);
      for (let i = 0; i < slots.length; i++) {
        const dest = where.length === 1 ? where[0] : choose(expert, where, 1);
        const experts = (byDest[dest] ??= new Map<number, number[]>());
        let list = experts.get(expert);
        if (!list) experts.set(expert, (list = []));
        list.push(chunk, slots[i], tokens[i]);
      }
    }
  });
  // Destinations without rows share one empty plan of this width (frozen: nothing writes to it).
  let empty: OutgoingRows | undefined;
  return byDest.map((experts) => {
    if (!experts) return (empty ??= Object.freeze({ groups: Object.freeze([]), rows: Tensor.zeros([0, hidden]), chunkOf: NO_ROWS, slotOf: NO_ROWS }));
    const order = [...experts.keys()].sort((a, b) => a - b);
    const total = order.reduce((n, e) => n + (experts.get(e) as number[]).length / 3, 0);
    const rows = Tensor.zeros([total, hidden]);
    const chunkOf = new Int32Array(total);
    const slotOf = new Int32Array(total);
    const groups: ExpertGroup[] = [];
    let r = 0;
    const out = rows.data as Float32Array;
    for (const expert of order) {
      const list = experts.get(expert) as number[];
      groups.push([expert, list.length / 3]);
      for (let i = 0; i < list.length; i += 3, r++) {
        chunkOf[r] = list[i];
        slotOf[r] = list[i + 1];
        copyRow(out, r, dispatches[list[i]].expertInput.data as Float32Array, list[i + 2], hidden);
      }
    }
    return { groups, rows, chunkOf, slotOf };
  });
}

/**
 * planDispatch for rows counted per expert (numerics off): work per chunk and destination grows with the
 * experts, not the tokens. A (chunk, expert) group is split in equal parts over its expert's holders, one
 * part per pick of `choose` (as routed rows, picked one at a time, would spread).
 */
function planCounted(dispatches: readonly MoeDispatch[], holders: readonly (readonly number[])[], ranks: number, choose: ReplicaChoice): OutgoingRows[] {
  // per destination: expert → [chunk, rows] pairs, chunks ascending; made for destinations that get rows
  // only (at hundreds of ranks, a micro-batch's layer reaches a fraction of them)
  const byDest = new Array<Map<number, number[]> | undefined>(ranks).fill(undefined);
  const add = (dest: number, expert: number, chunk: number, n: number): void => {
    const experts = (byDest[dest] ??= new Map<number, number[]>());
    let list = experts.get(expert);
    if (!list) experts.set(expert, (list = []));
    // Two parts of one group picked for the same holder make one run.
    if (list.length > 0 && list[list.length - 2] === chunk) list[list.length - 1] += n;
    else list.push(chunk, n);
  };
  dispatches.forEach((dispatch, chunk) => {
    const counts = dispatch.expertCounts;
    if (!counts) throw new Error(`dispatch: layer ${dispatch.layer} mixes counted and routed rows`);
    counts.forEach((n, expert) => {
      if (n === 0) return;
      const where = holders[expert];
      if (!where || where.length === 0) throw new Error(`dispatch: expert ${expert} of layer ${dispatch.layer} is held by no rank`);
      if (where.length === 1) return add(where[0], expert, chunk, n);
      const part = Math.floor(n / where.length);
      const larger = n % where.length;
      for (let i = 0; i < where.length; i++) {
        const rows = part + (i < larger ? 1 : 0);
        if (rows === 0) break;
        add(choose(expert, where, rows), expert, chunk, rows);
      }
    });
  });
  return byDest.map((experts) => (experts ? countedRows(experts) : NO_COUNTED_ROWS));
}

/** One destination's counted rows: groups by expert ascending, and the runs of each group's chunks. */
function countedRows(experts: ReadonlyMap<number, number[]>): OutgoingRows {
  const groups: ExpertGroup[] = [];
  const countedRuns: [number, number][] = [];
  let total = 0;
  for (const expert of [...experts.keys()].sort((a, b) => a - b)) {
    const list = experts.get(expert) as number[];
    let rows = 0;
    for (let i = 0; i < list.length; i += 2) {
      countedRuns.push([list[i], list[i + 1]]);
      rows += list[i + 1];
    }
    groups.push([expert, rows]);
    total += rows;
  }
  return { groups, rows: shapeRows(total), chunkOf: NO_ROWS, slotOf: NO_ROWS, countedRuns };
}

const NO_ROWS = new Int32Array(0);
/** What a destination without counted rows gets: one shared, frozen value (nothing reads it but to skip it). */
const NO_COUNTED_ROWS: OutgoingRows = Object.freeze({ groups: Object.freeze([]), rows: shapeRows(0), chunkOf: NO_ROWS, slotOf: NO_ROWS, countedRuns: Object.freeze([]) });

/** `count` rows of width 0 (numerics off): a shape, with no memory behind it. */
export function shapeRows(count: number): Tensor {
  return Tensor.zeros([count, 0]);
}

/** Rows per expert across every source: the batch each expert will run. */
export function rowsPerExpert(sources: readonly IncomingRows[]): Map<number, number> {
  const rows = new Map<number, number>();
  // Index loops, not destructuring: this runs for every group of every batch, and destructuring a pair
  // goes through the iterator protocol.
  for (const s of sources) {
    const groups = s.groups;
    for (let i = 0; i < groups.length; i++) {
      const expert = groups[i][0];
      rows.set(expert, (rows.get(expert) ?? 0) + groups[i][1]);
    }
  }
  return rows;
}

/** An expert batch's result: each source's output rows (in the order it sent them), and rows per expert call. */
export interface ExpertBatchResult {
  readonly outputs: Tensor[];
  readonly batches: number[];
}

/**
 * Memory an expert batch may use instead of fresh buffers (every row of what they give is overwritten):
 * `gathered`, the batch's input rows, dead when the batch returns; `outputs`, the sources' output rows.
 */
export interface ExpertBatchMemory {
  gathered(shape: readonly [number, number]): Tensor;
  outputs(shapes: readonly (readonly [number, number])[]): Tensor[];
}

/**
 * Runs each expert once over the rows every source sent it (sources in order, so the batch is the same on
 * every run), and returns each source's outputs in the order it sent its rows. `compute`'s result is read
 * before its next call (it may reuse its memory). `sizes`: the sources' rowsPerExpert where the caller has it
 * already (it costs the op), so shape-only rows are not counted twice. `memory`: where the gathered rows and
 * the outputs go (fresh buffers if absent).
 */
export function runExpertBatch(
  sources: readonly IncomingRows[],
  compute: (expert: number, rows: Tensor) => Tensor,
  sizes?: ReadonlyMap<number, number>,
  memory?: ExpertBatchMemory,
): ExpertBatchResult {
  const hidden = sources.find((s) => s.rows.rowCount > 0)?.rows.rowSize ?? 0;
  if (hidden === 0) return runCountedBatch(sources, compute, sizes ?? rowsPerExpert(sources));
  const shapes = sources.map((s): [number, number] => [s.rows.rowCount, hidden]);
  // Every row of each output is written below: each source's groups cover all its rows (checked).
  const outputs = memory ? memory.outputs(shapes) : shapes.map((shape) => Tensor.zeros(shape));
  // expert → [source, first row in source, count]
  const parts = new Map<number, number[]>();
  sources.forEach((source, s) => {
    let row = 0;
    for (const [expert, count] of source.groups) {
      let list = parts.get(expert);
      if (!list) parts.set(expert, (list = []));
      list.push(s, row, count);
      row += count;
    }
    if (row !== source.rows.rowCount) throw new Error(`expert batch: source ${s} sent ${source.rows.rowCount} rows for groups totalling ${row}`);
  });
  const batches: number[] = [];
  // One buffer for every expert's batch (each a row range of it): one allocation per call, not per expert.
  let rowsIn = 0;
  for (const s of sources) rowsIn += s.rows.rowCount;
  // Every row of it is overwritten below.
  const gathered = memory ? memory.gathered([rowsIn, hidden]) : Tensor.zeros([rowsIn, hidden]);
  let first = 0;
  for (const expert of [...parts.keys()].sort((a, b) => a - b)) {
    const list = parts.get(expert) as number[];
    let total = 0;
    for (let i = 2; i < list.length; i += 3) total += list[i];
    const batch = gathered.rows(first, first + total);
    first += total;
    const into = batch.data as Float32Array;
    let at = 0;
    for (let i = 0; i < list.length; i += 3) {
      const from = sources[list[i]].rows.data as Float32Array;
      for (let k = 0; k < list[i + 2]; k++) copyRow(into, at++, from, list[i + 1] + k, hidden);
    }
    const out = compute(expert, batch).data as Float32Array;
    at = 0;
    for (let i = 0; i < list.length; i += 3) {
      const back = outputs[list[i]].data as Float32Array;
      for (let k = 0; k < list[i + 2]; k++) copyRow(back, list[i + 1] + k, out, at++, hidden);
    }
    batches.push(total);
  }
  return { outputs, batches };
}

/** runExpertBatch for shape-only rows: each expert once over its rows' count, nothing copied. */
function runCountedBatch(
  sources: readonly IncomingRows[],
  compute: (expert: number, rows: Tensor) => Tensor,
  rows: ReadonlyMap<number, number>,
): ExpertBatchResult {
  const batches: number[] = [];
  for (const expert of [...rows.keys()].sort((a, b) => a - b)) {
    const n = rows.get(expert) as number;
    compute(expert, shapeRows(n));
    batches.push(n);
  }
  return { outputs: sources.map((s) => s.rows), batches };
}

/** Slot-output buffers for a list of chunk dispatches, to fill as combine replies land. */
export function slotBuffers(dispatches: readonly MoeDispatch[]): Tensor[] {
  return dispatches.map((d) => slotOutputsFor(d));
}

/** Writes a combine reply (outputs of `sent`'s rows, in order) into the chunks' slot outputs. */
export function landOutputs(sent: OutgoingRows, outputs: Tensor, slotOutputs: readonly Tensor[]): void {
  if (outputs.rowCount !== sent.rows.rowCount) {
    throw new Error(`combine: ${outputs.rowCount} expert outputs returned for ${sent.rows.rowCount} rows sent`);
  }
  const width = outputs.rowSize;
  const from = outputs.data as Float32Array;
  const into = slotOutputs.map((t) => t.data as Float32Array);
  for (let r = 0; r < sent.chunkOf.length; r++) copyRow(into[sent.chunkOf[r]], sent.slotOf[r], from, r, width);
}

/**
 * Bytes per value a shape-only row stands for: bf16, what production MoE all-to-alls carry (numerics on,
 * rows travel as the f32 tensors they are).
 */
export const SHAPE_BYTES_PER_VALUE = 2;

/**
 * A message carrying `rows`: as a tensor; or, when rows are shapes only (width 0, numerics off), as the
 * bytes they stand for (`hiddenSize` bf16 values each), which the sim host charges to the link.
 */
export function withRows(kind: string, meta: unknown, rows: Tensor, hiddenSize: number): ChannelMessage {
  if (rows.rowCount === 0) return { kind, meta };
  if (rows.rowSize === 0) return { kind, meta, virtualBytes: rows.rowCount * hiddenSize * SHAPE_BYTES_PER_VALUE };
  return { kind, meta, tensors: [rows] };
}

/** The `count` rows a message carries, `width` wide: its tensor, or shape-only rows. */
export function rowsOf(message: ChannelMessage, count: number, width: number): Tensor {
  const rows = message.tensors?.[0] ?? (width === 0 ? shapeRows(count) : Tensor.zeros([count, width]));
  if (rows.rowCount !== count) throw new Error(`"${message.kind}" carries ${rows.rowCount} rows, its header says ${count}`);
  return rows;
}

/** Rows a dispatch header announces. */
export function groupRows(groups: readonly ExpertGroup[]): number {
  let n = 0;
  for (let i = 0; i < groups.length; i++) n += groups[i][1];
  return n;
}

/** The request each dispatched row belongs to, run-length encoded in row order: [request id, rows][]. */
export type RequestRuns = readonly (readonly [number, number])[];

export function requestRuns(sent: OutgoingRows, requestOfChunk: (chunk: number) => number): [number, number][] {
  const runs: [number, number][] = [];
  const add = (chunk: number, rows: number): void => {
    const id = requestOfChunk(chunk);
    const last = runs[runs.length - 1];
    if (last && last[0] === id) last[1] += rows;
    else runs.push([id, rows]);
  };
  if (sent.countedRuns) for (const [chunk, rows] of sent.countedRuns) add(chunk, rows);
  else for (const chunk of sent.chunkOf) add(chunk, 1);
  return runs;
}

/**
 * The rows of `incoming` whose request is not `dropped` (a cancelled request's rows are not computed), their
 * groups recounted, and the position each kept row had.
 */
export function keepRows(incoming: IncomingRows, runs: RequestRuns, dropped: ReadonlySet<number>): { rows: IncomingRows; kept: Int32Array } {
  const total = incoming.rows.rowCount;
  const keep = new Uint8Array(total);
  let row = 0;
  for (const [id, count] of runs) {
    if (!dropped.has(id)) keep.fill(1, row, row + count);
    row += count;
  }
  if (row !== total) throw new Error(`dispatch: request runs cover ${row} rows of ${total}`);
  const kept: number[] = [];
  const groups: ExpertGroup[] = [];
  row = 0;
  for (const [expert, count] of incoming.groups) {
    let n = 0;
    for (let r = row; r < row + count; r++) if (keep[r]) kept.push(r), n++;
    if (n > 0) groups.push([expert, n]);
    row += count;
  }
  const width = incoming.rows.rowSize;
  const rows = Tensor.zeros([kept.length, width]);
  const into = rows.data as Float32Array;
  const from = incoming.rows.data as Float32Array;
  kept.forEach((r, i) => copyRow(into, i, from, r, width));
  return { rows: { groups, rows }, kept: Int32Array.from(kept) };
}

/** Outputs for all `total` rows a source sent: the kept rows' outputs where they were, zeros for dropped rows. */
export function restoreRows(out: Tensor, kept: Int32Array, total: number): Tensor {
  const width = out.rowSize;
  const full = Tensor.zeros([total, width]);
  const into = full.data as Float32Array;
  const from = out.data as Float32Array;
  kept.forEach((r, i) => copyRow(into, r, from, i, width));
  return full;
}
