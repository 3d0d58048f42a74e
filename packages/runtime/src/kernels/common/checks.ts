// Argument checks shared by every backend, so each op rejects bad input with the same clear message
// (which op, which operand, which shapes) whatever backend runs it.
import type { DType } from '../../tensor/dtype.ts';
import { Tensor } from '../../tensor/tensor.ts';
import type { AttentionOptions, BackendCapabilities, BackendName, OpName, RopeOptions } from '../backend.ts';
import { KernelUnsupportedError } from '../../errors.ts';

function shapeOf(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

export function fail(op: OpName, message: string): never {
  throw new RangeError(`${op}: ${message}`);
}

export function requireRank2(op: OpName, role: string, t: Tensor): void {
  if (t.rank !== 2) fail(op, `${role} must be 2-D [rows, cols], got ${t} ${shapeOf(t)}`);
}

export function requireF32(op: OpName, role: string, t: Tensor): void {
  if (t.dtype !== 'f32') throw new TypeError(`${op}: ${role} must be f32 (activations are f32), got ${t.dtype}`);
}

/** The storage dtype of a weight-like operand must be one the backend lists for the op. */
export function requireDType(backend: BackendName, caps: BackendCapabilities, op: OpName, role: string, dtype: DType): void {
  const accepted = caps[op];
  if (!accepted.includes(dtype)) throw KernelUnsupportedError.dtype(backend, op, role, dtype, accepted);
}

/** `out` when given must be f32 of exactly the result shape; otherwise a fresh zeroed tensor. */
export function outputFor(op: OpName, shape: readonly number[], out: Tensor | undefined): Tensor {
  if (!out) return Tensor.zeros(shape, 'f32');
  if (out.dtype !== 'f32') throw new TypeError(`${op}: out must be f32, got ${out.dtype}`);
  if (out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) {
    fail(op, `out has shape ${shapeOf(out)}, the result is [${shape.join(', ')}]`);
  }
  return out;
}

export function requireSameShape(op: OpName, a: Tensor, aRole: string, b: Tensor, bRole: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    fail(op, `${aRole} ${shapeOf(a)} and ${bRole} ${shapeOf(b)} differ in shape`);
  }
}

export interface MatmulShape {
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

export function checkMatmul(x: Tensor, w: Tensor, bias: Tensor | undefined): MatmulShape {
  requireRank2('matmul', 'x', x);
  requireRank2('matmul', 'w', w);
  requireF32('matmul', 'x', x);
  const [m, k] = x.shape;
  const [n, kw] = w.shape;
  if (k !== kw) fail('matmul', `x ${shapeOf(x)} and w ${shapeOf(w)}: inner dimensions differ (${k} vs ${kw}; w is [out, in])`);
  if (bias && (bias.size !== n || bias.rank !== 1)) fail('matmul', `bias ${shapeOf(bias)} must be [${n}] for w ${shapeOf(w)}`);
  return { m, k, n };
}

export interface NormShape {
  readonly rows: number;
  /** Length of one normalised slice (the weight length). */
  readonly width: number;
  /** Slices per row (heads for q/k norm, 1 otherwise). */
  readonly slices: number;
}

export function checkRmsNorm(x: Tensor, weight: Tensor, eps: number): NormShape {
  requireF32('rmsNorm', 'x', x);
  if (x.rank < 1) fail('rmsNorm', `x must have rows, got a scalar`);
  if (weight.rank !== 1 || weight.size === 0) fail('rmsNorm', `weight must be 1-D and non-empty, got ${shapeOf(weight)}`);
  const rowSize = x.rank === 1 ? x.size : x.rowSize;
  const rows = x.rank === 1 ? 1 : x.rowCount;
  if (rowSize % weight.size !== 0) {
    fail('rmsNorm', `weight length ${weight.size} does not divide the row length ${rowSize} of x ${shapeOf(x)}`);
  }
  if (!(eps >= 0) || !Number.isFinite(eps)) fail('rmsNorm', `eps must be a finite number ≥ 0, got ${eps}`);
  return { rows, width: weight.size, slices: rowSize / weight.size };
}

export interface RopeShape {
  readonly rows: number;
  readonly rotaryDim: number;
  /** The largest position: the RoPE table must reach it. */
  readonly maxPosition: number;
}

export function checkRope(x: Tensor, o: RopeOptions): RopeShape {
  requireRank2('rope', 'x', x);
  requireF32('rope', 'x', x);
  const rotaryDim = o.rotaryDim ?? o.headDim;
  if (!Number.isInteger(o.numHeads) || !Number.isInteger(o.headDim) || o.numHeads <= 0 || o.headDim <= 0) {
    fail('rope', `numHeads ${o.numHeads} and headDim ${o.headDim} must be positive integers`);
  }
  if (x.shape[1] !== o.numHeads * o.headDim) {
    fail('rope', `x ${shapeOf(x)} rows must be numHeads*headDim = ${o.numHeads}*${o.headDim} = ${o.numHeads * o.headDim} wide`);
  }
  if (!Number.isInteger(rotaryDim) || rotaryDim <= 0 || rotaryDim % 2 !== 0 || rotaryDim > o.headDim) {
    fail('rope', `rotaryDim ${rotaryDim} must be even and in 2..headDim (${o.headDim})`);
  }
  if (o.positions.length !== x.shape[0]) fail('rope', `${o.positions.length} positions for ${x.shape[0]} rows of x`);
  if (o.inverseFrequencies) {
    if (o.inverseFrequencies.length !== rotaryDim / 2) {
      fail('rope', `${o.inverseFrequencies.length} inverse frequencies for rotaryDim ${rotaryDim} (needs ${rotaryDim / 2})`);
    }
  } else if (!(o.theta > 0)) {
    fail('rope', `theta must be > 0, got ${o.theta}`);
  }
  if (o.attentionScaling !== undefined && !Number.isFinite(o.attentionScaling)) {
    fail('rope', `attentionScaling must be finite, got ${o.attentionScaling}`);
  }
  let maxPosition = 0;
  for (let r = 0; r < o.positions.length; r++) {
    const p = o.positions[r];
    if (p < 0) fail('rope', `position ${p} of row ${r} is negative`);
    if (p > maxPosition) maxPosition = p;
  }
  return { rows: x.shape[0], rotaryDim, maxPosition };
}

export interface AttentionShape {
  readonly queries: number;
  readonly keys: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  /** Per-head width of v and of the output. */
  readonly valueHeadDim: number;
  readonly scale: number;
  readonly queryOffset: number;
}

export function checkAttention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions): AttentionShape {
  for (const [role, t] of [['q', q], ['k', k], ['v', v]] as const) {
    requireRank2('attention', role, t);
    requireF32('attention', role, t);
  }
  const { numHeads, numKvHeads, headDim } = o;
  const valueHeadDim = o.valueHeadDim ?? headDim;
  if (![numHeads, numKvHeads, headDim, valueHeadDim].every((d) => Number.isInteger(d) && d > 0)) {
    fail(
      'attention',
      `numHeads ${numHeads}, numKvHeads ${numKvHeads}, headDim ${headDim}, valueHeadDim ${valueHeadDim} must be positive integers`,
    );
  }
  if (numHeads % numKvHeads !== 0) fail('attention', `numHeads ${numHeads} is not a multiple of numKvHeads ${numKvHeads}`);
  if (q.shape[1] !== numHeads * headDim) fail('attention', `q ${shapeOf(q)} rows must be numHeads*headDim = ${numHeads * headDim} wide`);
  if (k.shape[1] !== numKvHeads * headDim) {
    fail('attention', `k ${shapeOf(k)} rows must be numKvHeads*headDim = ${numKvHeads * headDim} wide`);
  }
  if (v.shape[1] !== numKvHeads * valueHeadDim) {
    const name = o.valueHeadDim === undefined ? 'headDim' : 'valueHeadDim';
    fail('attention', `v ${shapeOf(v)} rows must be numKvHeads*${name} = ${numKvHeads * valueHeadDim} wide`);
  }
  if (k.shape[0] !== v.shape[0]) fail('attention', `k ${shapeOf(k)} and v ${shapeOf(v)} hold different numbers of keys`);
  const queries = q.shape[0];
  const keys = k.shape[0];
  const queryOffset = o.queryOffset ?? keys - queries;
  if (!Number.isInteger(queryOffset) || queryOffset < 0 || queryOffset + queries > keys) {
    fail('attention', `queries at positions ${queryOffset}..${queryOffset + queries - 1} need keys up to there, k has ${keys} rows`);
  }
  const scale = o.scale ?? 1 / Math.sqrt(headDim);
  if (!Number.isFinite(scale)) fail('attention', `scale must be finite, got ${scale}`);
  return { queries, keys, numHeads, numKvHeads, headDim, valueHeadDim, scale, queryOffset };
}

export function checkScale(x: Tensor, s: number): void {
  requireF32('scale', 'x', x);
  if (!Number.isFinite(s)) fail('scale', `factor must be finite, got ${s}`);
}

export function checkRowIndex(op: OpName, index: Int32Array, limit: number, role: string): void {
  for (let i = 0; i < index.length; i++) {
    const r = index[i];
    if (r < 0 || r >= limit) fail(op, `index[${i}] = ${r} is outside the ${limit} rows of ${role}`);
  }
}

/** `out` must not share memory with inputs the op reads after it starts writing (matmul, attention). */
export function requireDisjoint(op: OpName, out: Tensor | undefined, inputs: ReadonlyArray<readonly [string, Tensor]>): void {
  if (!out) return;
  for (const [role, t] of inputs) {
    if (t.buffer === out.buffer && t.byteOffset < out.byteOffset + out.byteLength && out.byteOffset < t.byteOffset + t.byteLength) {
      fail(op, `out overlaps ${role}: the result would overwrite its own input`);
    }
  }
}
