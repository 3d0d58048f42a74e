import type { Arena } from '../../tensor/arena.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import type {
  AttentionOptions,
  Backend,
  BackendCapabilities,
  BackendOptions,
  RopeOptions,
  RouterChoice,
  RouterOptions,
} from '../backend.ts';
import {
  checkAttention,
  checkMatmul,
  checkRmsNorm,
  checkRope,
  checkScale,
  outputFor,
  requireDisjoint,
  requireDType,
  requireF32,
  requireSameShape,
} from '../common/checks.ts';
import { RopeTables } from '../common/rope-table.ts';
import { routerTopK } from '../common/router.ts';
import { gatherRows, scatterAddRows } from '../common/rows.ts';
import { type SharedMemory, webAssembly } from './api.ts';
import type { Bump } from './memory.ts';
import { WasmMemory } from './memory.ts';
import { type KernelExports, type SimdMode, instantiate, relaxedSimdAvailable } from './module.ts';

const capabilities: BackendCapabilities = Object.freeze({
  matmul: ['f32', 'bf16'],
  rmsNorm: ['f32', 'bf16', 'f16'],
  rope: ['f32'],
  attention: ['f32'],
  routerTopK: ['f32'],
  siluMul: ['f32'],
  gatherRows: ['f32', 'bf16', 'f16'],
  scatterAddRows: ['f32'],
  add: ['f32'],
  scale: ['f32'],
});

const DEFAULT_MEMORY_BYTES = 256 * 1024 * 1024;

/**
 * WebAssembly SIMD-128 kernels over one shared WebAssembly.Memory. Tensors in that memory (from
 * `resident`, or allocated from `arena`) are computed on in place; others are copied into scratch and
 * results copied out. gatherRows, scatterAddRows and routerTopK run the shared scalar code on the tensors'
 * memory directly: they move data or do per-row scalar work where wasm gains nothing.
 */
export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly capabilities = capabilities;
  /**
   * 'relaxed': fused multiply-add in the matmul and attention dot products; 'plain': multiply then add, each
   * rounded, so matmul too is bit-identical to js (rmsNorm, rope, add and scale are in both modes).
   */
  readonly simd: SimdMode;
  /** The memory and the kernels bound to it; dropped by dispose() so the memory can be reclaimed. */
  private held: { readonly mem: WasmMemory; readonly k: KernelExports } | undefined;
  /** RoPE cos/sin, built once per (rotaryDim, theta) in this memory, so the kernel reads them in place. */
  private readonly ropeTables = new RopeTables({
    alloc: (floats) => this.mem.arena.alloc([floats], 'f32', { zero: false }),
    release: (t) => this.mem.arena.release(t),
  });

  private constructor(mode: SimdMode, memoryBytes: number) {
    this.simd = mode;
    const probe = new webAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const reservedLow = instantiate(mode, probe).heapBase();
    const mem = new WasmMemory(memoryBytes, reservedLow);
    this.held = { mem, k: instantiate(mode, mem.memory) };
  }

  static async create(options: BackendOptions = {}): Promise<WasmBackend> {
    const wanted = options.relaxedSimd ?? 'auto';
    const mode: SimdMode = wanted === false ? 'plain' : wanted === true || relaxedSimdAvailable() ? 'relaxed' : 'plain';
    return new WasmBackend(mode, options.memoryBytes ?? DEFAULT_MEMORY_BYTES);
  }

  /** The allocator of the backend's memory: tensors allocated here are read and written in place. */
  get arena(): Arena {
    return this.mem.arena;
  }

  get memory(): SharedMemory {
    return this.mem.memory;
  }

  matmul(x: Tensor, w: Tensor, bias?: Tensor, out?: Tensor): Tensor {
    this.live();
    requireDType(this.name, capabilities, 'matmul', 'w', w.dtype);
    if (bias) requireDType(this.name, capabilities, 'matmul', 'bias', bias.dtype);
    const { m, k, n } = checkMatmul(x, w, bias);
    requireDisjoint('matmul', out, [['x', x], ['w', w]]);
    const y = outputFor('matmul', [m, n], out);
    const mem = this.mem;
    const bump = mem.reserve(
      mem.copyBytes(x) + mem.copyBytes(w) + (bias ? n * 4 + 64 : 0) + mem.copyBytes(y) + this.k.matmulScratchBytes(m, n, k),
    );
    const px = mem.place(x, bump);
    const pw = mem.place(w, bump);
    const pb = bias ? this.placeF32(bias, bump) : 0;
    const py = this.target(y, bump);
    const packed = bump.take(this.k.matmulScratchBytes(m, n, k));
    if (w.dtype === 'f32') this.k.matmulF32(px, pw, pb, py, packed, m, n, k);
    else this.k.matmulBf16(px, pw, pb, py, packed, m, n, k);
    mem.copyOut(py, y);
    return y;
  }

  rmsNorm(x: Tensor, weight: Tensor, eps: number, out?: Tensor): Tensor {
    this.live();
    requireDType(this.name, capabilities, 'rmsNorm', 'weight', weight.dtype);
    const { rows, width, slices } = checkRmsNorm(x, weight, eps);
    const y = outputFor('rmsNorm', x.shape, out);
    const mem = this.mem;
    const bump = mem.reserve(mem.copyBytes(x) + width * 4 + 64 + mem.copyBytes(y));
    const px = mem.place(x, bump);
    const pw = this.placeF32(weight, bump);
    const py = this.target(y, bump);
    this.k.rmsNorm(px, pw, py, rows * slices, width, eps);
    mem.copyOut(py, y);
    return y;
  }

  rope(x: Tensor, options: RopeOptions, out?: Tensor): Tensor {
    this.live();
    const { rows, rotaryDim, maxPosition } = checkRope(x, options);
    const y = outputFor('rope', x.shape, out);
    const table = this.ropeTables.table(options, rotaryDim, maxPosition);
    const mem = this.mem;
    const bump = mem.reserve(mem.copyBytes(x) + options.positions.byteLength + 64 + mem.copyBytes(y));
    const px = mem.place(x, bump);
    const pp = mem.placeValues(options.positions, bump);
    const py = this.target(y, bump);
    this.k.rope(px, py, table.cos.byteOffset, table.sin.byteOffset, pp, rows, options.numHeads, options.headDim, table.half);
    mem.copyOut(py, y);
    return y;
  }

  attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions, out?: Tensor): Tensor {
    this.live();
    const s = checkAttention(q, k, v, options);
    requireDisjoint('attention', out, [['q', q], ['k', k], ['v', v]]);
    const y = outputFor('attention', [s.queries, s.numHeads * s.valueHeadDim], out);
    const mem = this.mem;
    const scratchBytes = this.k.attentionScratchBytes(s.queries, s.numHeads, s.headDim);
    const bump = mem.reserve(mem.copyBytes(q) + mem.copyBytes(k) + mem.copyBytes(v) + mem.copyBytes(y) + scratchBytes);
    const pq = mem.place(q, bump);
    const pk = mem.place(k, bump);
    const pv = mem.place(v, bump);
    const py = this.target(y, bump);
    const scratch = bump.take(scratchBytes);
    this.k.attention(pq, pk, pv, py, scratch, s.queries, s.keys, s.numHeads, s.numKvHeads, s.headDim, s.valueHeadDim, s.scale, s.queryOffset);
    mem.copyOut(py, y);
    return y;
  }

  routerTopK(logits: Tensor, options: RouterOptions): RouterChoice {
    this.live();
    return routerTopK(logits, options);
  }

  siluMul(gate: Tensor, up: Tensor, out?: Tensor): Tensor {
    return this.elementwise('siluMul', gate, up, out, (a, b, y, n) => this.k.siluMul(a, b, y, n));
  }

  gatherRows(x: Tensor, index: Int32Array, out?: Tensor): Tensor {
    this.live();
    requireDType(this.name, capabilities, 'gatherRows', 'x', x.dtype);
    return gatherRows(x, index, out);
  }

  scatterAddRows(dst: Tensor, src: Tensor, index: Int32Array, scale?: Float32Array): Tensor {
    this.live();
    return scatterAddRows(dst, src, index, scale);
  }

  add(a: Tensor, b: Tensor, out?: Tensor): Tensor {
    return this.elementwise('add', a, b, out, (pa, pb, y, n) => this.k.add(pa, pb, y, n));
  }

  scale(x: Tensor, s: number, out?: Tensor): Tensor {
    this.live();
    checkScale(x, s);
    const y = outputFor('scale', x.shape, out);
    const mem = this.mem;
    const bump = mem.reserve(mem.copyBytes(x) + mem.copyBytes(y));
    const px = mem.place(x, bump);
    const py = this.target(y, bump);
    this.k.scale(px, py, x.size, s);
    mem.copyOut(py, y);
    return y;
  }

  /** A copy of `t` in the backend's memory (or `t` itself if it is there), kept until `release` or `dispose`. */
  resident(t: Tensor): Tensor {
    this.live();
    if (this.mem.holds(t)) return t;
    const copy = this.mem.arena.alloc(t.shape, t.dtype, { zero: false });
    new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength).set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
    return copy;
  }

  /** Returns a tensor from `resident` (or the arena) to the backend's memory. */
  release(t: Tensor): void {
    this.mem.arena.release(t);
  }

  /** Drops the memory and the kernels: any later call is an error, and the memory goes with the last tensor in it. */
  dispose(): void {
    this.held = undefined;
  }

  private get mem(): WasmMemory {
    return this.live().mem;
  }

  private get k(): KernelExports {
    return this.live().k;
  }

  private live(): { readonly mem: WasmMemory; readonly k: KernelExports } {
    if (!this.held) throw new Error('wasm backend: used after dispose()');
    return this.held;
  }

  /** Where a kernel writes `y`: in place when it lives here, else scratch (copied out afterwards). */
  private target(y: Tensor, bump: Bump): number {
    return this.mem.holds(y) ? y.byteOffset : bump.take(y.byteLength);
  }

  /** An f32 pointer to `t`'s values: in place when it is f32 here, else decoded into scratch. */
  private placeF32(t: Tensor, bump: Bump): number {
    return t.dtype === 'f32' && this.mem.holds(t) ? t.byteOffset : this.mem.placeValues(t.toF32(), bump);
  }

  private elementwise(
    op: 'add' | 'siluMul',
    a: Tensor,
    b: Tensor,
    out: Tensor | undefined,
    kernel: (a: number, b: number, y: number, n: number) => void,
  ): Tensor {
    this.live();
    const [aRole, bRole] = op === 'add' ? ['a', 'b'] : ['gate', 'up'];
    requireF32(op, aRole, a);
    requireF32(op, bRole, b);
    requireSameShape(op, a, aRole, b, bRole);
    const y = outputFor(op, a.shape, out);
    const mem = this.mem;
    const bump = mem.reserve(mem.copyBytes(a) + mem.copyBytes(b) + mem.copyBytes(y));
    const pa = mem.place(a, bump);
    const pb = mem.place(b, bump);
    const py = this.target(y, bump);
    kernel(pa, pb, py, a.size);
    mem.copyOut(py, y);
    return y;
  }
}
