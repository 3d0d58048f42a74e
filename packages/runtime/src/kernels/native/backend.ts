import type { DType } from '../../tensor/dtype.ts';
import { Tensor } from '../../tensor/tensor.ts';
import type {
  AttentionOptions,
  Backend,
  BackendCapabilities,
  BackendOptions,
  OpName,
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
import { KernelUnsupportedError } from '../../errors.ts';
import { RopeTables, rowAngles } from '../common/rope-table.ts';
import { checkRouter } from '../common/router.ts';
import { checkGatherRows, checkScatterAddRows } from '../common/rows.ts';
import { type NativeContext, type NativeIsa, nativeAddon } from './addon.ts';
import { OutputSlab } from './slab.ts';

const capabilities: BackendCapabilities = Object.freeze({
  matmul: ['f32', 'bf16', 'f16'],
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

/** The addon's code for a storage dtype (native/src/table.h WeightType). */
const DTYPE_CODE: Readonly<Record<DType, number>> = { f32: 0, bf16: 1, f16: 2 };

export interface NativeBackendOptions extends BackendOptions {
  /** Run these kernels instead of the best this CPU has (tests compare instruction sets); an error if the CPU lacks them. */
  readonly isa?: NativeIsa;
}

type F32 = Float32Array;

/**
 * C++ kernels (native/src) vectorised for AVX-512 or AVX2, chosen at run time from the CPU's features,
 * computing on the tensors' own memory (any SharedArrayBuffer or ArrayBuffer: nothing is copied in or
 * out). matmul and attention use fused multiply-adds (one rounding per step, like the wasm relaxed build);
 * rmsNorm, rope, add, scale, gather and scatter give the js backend's bits. matmul and attention may split
 * output columns over `threads` kernel threads (default 1), which never changes a result.
 */
export class NativeBackend implements Backend {
  readonly name = 'native' as const;
  readonly capabilities = capabilities;
  /** The instruction set the kernels run with: 'avx512', 'avx2' or 'generic' (scalar). */
  readonly isa: NativeIsa;
  /** Kernel threads (the calling thread included). */
  readonly threads: number;
  private context: NativeContext | undefined;
  private readonly slab = new OutputSlab();
  private readonly ropeTables = new RopeTables({ alloc: (floats) => Tensor.zeros([floats]), release: () => {} });

  private constructor(context: NativeContext) {
    this.context = context;
    this.isa = context.isa;
    this.threads = context.threads;
  }

  static async create(options: NativeBackendOptions = {}): Promise<NativeBackend> {
    const loaded = nativeAddon();
    if (!('addon' in loaded)) throw new KernelUnsupportedError(`native backend is unavailable: ${loaded.reason}`);
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw new RangeError(`native backend: threads must be an integer in 1..256, got ${threads}`);
    }
    if (options.isa !== undefined && !loaded.addon.isas.includes(options.isa)) {
      throw new KernelUnsupportedError(`native backend: this CPU cannot run the ${options.isa} kernels (it runs ${loaded.addon.isas.join(', ')})`);
    }
    return new NativeBackend(new loaded.addon.Context(threads, options.isa));
  }

  matmul(x: Tensor, w: Tensor, bias?: Tensor, out?: Tensor): Tensor {
    const k = this.live();
    requireDType(this.name, capabilities, 'matmul', 'w', w.dtype);
    if (bias) requireDType(this.name, capabilities, 'matmul', 'bias', bias.dtype);
    const { m, k: depth, n } = checkMatmul(x, w, bias);
    requireDisjoint('matmul', out, [['x', x], ['w', w]]);
    const y = this.output('matmul', [m, n], out);
    k.matmul(x.data as F32, m, depth, w.data, DTYPE_CODE[w.dtype], n, bias ? (bias.data as F32) : null, y.data as F32);
    return y;
  }

  rmsNorm(x: Tensor, weight: Tensor, eps: number, out?: Tensor): Tensor {
    const k = this.live();
    requireDType(this.name, capabilities, 'rmsNorm', 'weight', weight.dtype);
    const { rows, width, slices } = checkRmsNorm(x, weight, eps);
    const y = this.output('rmsNorm', x.shape, out);
    k.rmsNorm(x.data as F32, weight.data, DTYPE_CODE[weight.dtype], y.data as F32, rows * slices, width, eps);
    return y;
  }

  rope(x: Tensor, options: RopeOptions, out?: Tensor): Tensor {
    const k = this.live();
    const { rows, rotaryDim, maxPosition } = checkRope(x, options);
    const y = this.output('rope', x.shape, out);
    // The kernel takes cos/sin per row: gathered from the backend's table, which is built once.
    const table = this.ropeTables.table(options, rotaryDim, maxPosition);
    const { cos, sin } = rowAngles(table, options.positions, rows);
    k.rope(x.data as F32, y.data as F32, cos, sin, rows, options.numHeads, options.headDim, table.half);
    return y;
  }

  attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions, out?: Tensor): Tensor {
    const c = this.live();
    const s = checkAttention(q, k, v, options);
    requireDisjoint('attention', out, [['q', q], ['k', k], ['v', v]]);
    const y = this.output('attention', [s.queries, s.numHeads * s.valueHeadDim], out);
    c.attention(
      q.data as F32, k.data as F32, v.data as F32, y.data as F32,
      s.queries, s.keys, s.numHeads, s.numKvHeads, s.headDim, s.scale, s.queryOffset, s.valueHeadDim,
    );
    return y;
  }

  routerTopK(logits: Tensor, options: RouterOptions): RouterChoice {
    const k = this.live();
    const { rows, experts } = checkRouter(logits, options);
    const ids = new Int32Array(rows * options.topK);
    const weights = new Float32Array(rows * options.topK);
    k.routerTopK(logits.data as F32, rows, experts, options.topK, options.renormalize, ids, weights);
    return { topK: options.topK, experts: ids, weights };
  }

  siluMul(gate: Tensor, up: Tensor, out?: Tensor): Tensor {
    const k = this.live();
    const y = this.elementwise('siluMul', gate, 'gate', up, 'up', out);
    k.siluMul(gate.data as F32, up.data as F32, y.data as F32, gate.size);
    return y;
  }

  gatherRows(x: Tensor, index: Int32Array, out?: Tensor): Tensor {
    const k = this.live();
    requireDType(this.name, capabilities, 'gatherRows', 'x', x.dtype);
    const y = checkGatherRows(x, index, out ?? this.slab.take([index.length, x.shape[1] ?? 0]));
    k.gatherRows(x.data, DTYPE_CODE[x.dtype], x.shape[0], x.shape[1], index, y.data as F32);
    return y;
  }

  scatterAddRows(dst: Tensor, src: Tensor, index: Int32Array, scale?: Float32Array): Tensor {
    const k = this.live();
    checkScatterAddRows(dst, src, index, scale);
    k.scatterAddRows(dst.data as F32, dst.shape[0], src.data as F32, dst.shape[1], index, scale ?? null);
    return dst;
  }

  add(a: Tensor, b: Tensor, out?: Tensor): Tensor {
    const k = this.live();
    const y = this.elementwise('add', a, 'a', b, 'b', out);
    k.add(a.data as F32, b.data as F32, y.data as F32, a.size);
    return y;
  }

  scale(x: Tensor, s: number, out?: Tensor): Tensor {
    const k = this.live();
    checkScale(x, s);
    const y = this.output('scale', x.shape, out);
    k.scale(x.data as F32, y.data as F32, x.size, s);
    return y;
  }

  /** The kernels read any memory in place: nothing to copy. */
  resident(t: Tensor): Tensor {
    this.live();
    return t;
  }

  /** Stops the kernel threads and frees the scratch: any later call is an error. */
  dispose(): void {
    this.ropeTables.clear();
    this.context?.dispose();
    this.context = undefined;
  }

  private live(): NativeContext {
    if (!this.context) throw new Error('native backend: used after dispose()');
    return this.context;
  }

  private elementwise(op: OpName, a: Tensor, aRole: string, b: Tensor, bRole: string, out: Tensor | undefined): Tensor {
    requireF32(op, aRole, a);
    requireF32(op, bRole, b);
    requireSameShape(op, a, aRole, b, bRole);
    return this.output(op, a.shape, out);
  }

  /** `out` checked, or a fresh result tensor. */
  private output(op: OpName, shape: readonly number[], out: Tensor | undefined): Tensor {
    return outputFor(op, shape, out ?? this.slab.take(shape));
  }
}
