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
import { DeviceMemoryExceededError, KernelUnsupportedError } from '../../errors.ts';
import { RopeTables, rowAngles } from '../common/rope-table.ts';
import { checkRouter } from '../common/router.ts';
import { checkGatherRows, checkScatterAddRows } from '../common/rows.ts';
import { OutputSlab } from '../native/slab.ts';
import { type CudaContext, cudaAddon } from './addon.ts';
import { DeviceCopies } from './device-copies.ts';

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

/** The addon's code for a storage dtype (native-cuda/src/kernels.h WeightType). */
const DTYPE_CODE: Readonly<Record<DType, number>> = { f32: 0, bf16: 1, f16: 2 };
/** The addon's ActivationParts: x as hi + lo bf16 parts, or rounded to one. */
const ACTIVATION_PARTS = { split: 2, bf16: 1 } as const;

type F32 = Float32Array;

/**
 * CUDA kernels (native-cuda/src) on one GPU, one CUDA stream per backend, so each rank actor (which creates
 * its own backend) owns a stream, its device scratch and its weights' device copies. matmul with bf16 weights
 * runs on tensor cores (f32 accumulation; activations as two bf16 parts unless `matmulActivations: 'bf16'`);
 * f32/f16 weights, attention (flash-style, f32; on tensor cores in bf16 with `attentionPrecision: 'bf16'`) and
 * the small ops run on CUDA cores. Every op is batch-invariant.
 *
 * The Backend interface is synchronous and its tensors live in host memory, so every op is one round trip:
 * operands copied through pinned staging to the device (weights made `resident` are uploaded once and not
 * copied again), the kernels, the result copied back, the stream drained. That costs a PCIe transfer of the
 * activations per op (≈ 25 GB/s: 4 MiB of activations ≈ 0.2 ms) plus a launch and a synchronisation
 * (≈ 10–20 µs), which small ops do not amortise. Activations cross ranks as they do on the CPU backends,
 * through the hosts' shared memory; no device-to-device path exists while ops return host tensors.
 */
export class CudaBackend implements Backend {
  readonly name = 'cuda' as const;
  readonly capabilities = capabilities;
  /** The GPU's name, e.g. 'NVIDIA H200'. */
  readonly deviceName: string;
  private context: CudaContext | undefined;
  private readonly parts: number;
  private readonly attentionTensorCores: boolean;
  private readonly copies = new DeviceCopies(() => this.context);
  private readonly slab = new OutputSlab();
  private readonly ropeTables = new RopeTables({ alloc: (floats) => Tensor.zeros([floats]), release: () => {} });

  private constructor(context: CudaContext, parts: number, attentionTensorCores: boolean) {
    this.context = context;
    this.parts = parts;
    this.attentionTensorCores = attentionTensorCores;
    this.deviceName = context.deviceName;
  }

  static async create(options: BackendOptions = {}): Promise<CudaBackend> {
    const loaded = cudaAddon();
    if (!('addon' in loaded)) throw new KernelUnsupportedError(`cuda backend unavailable: ${loaded.reason}`);
    const device = options.device ?? 0;
    if (!Number.isInteger(device) || device < 0 || device >= loaded.device.devices) {
      throw new RangeError(`cuda backend: device must be an integer in 0..${loaded.device.devices - 1}, got ${device}`);
    }
    const budget = options.deviceMemoryBytes ?? 0;
    if (!Number.isSafeInteger(budget) || budget < 0) {
      throw new RangeError(`cuda backend: deviceMemoryBytes must be a positive integer of bytes, got ${budget}`);
    }
    const activations = options.matmulActivations ?? 'split';
    if (!(activations in ACTIVATION_PARTS)) {
      throw new RangeError(`cuda backend: matmulActivations must be 'split' or 'bf16', got ${String(activations)}`);
    }
    const attention = options.attentionPrecision ?? 'f32';
    if (attention !== 'f32' && attention !== 'bf16') {
      throw new RangeError(`cuda backend: attentionPrecision must be 'f32' or 'bf16', got ${String(attention)}`);
    }
    return new CudaBackend(new loaded.addon.Context(device, budget), ACTIVATION_PARTS[activations], attention === 'bf16');
  }

  /** Device bytes this backend holds now (resident weights + scratch) and may hold. */
  get deviceMemory(): { readonly usedBytes: number; readonly budgetBytes: number } {
    const c = this.live();
    return { usedBytes: c.usedBytes, budgetBytes: c.budgetBytes };
  }

  matmul(x: Tensor, w: Tensor, bias?: Tensor, out?: Tensor): Tensor {
    const c = this.live();
    requireDType(this.name, capabilities, 'matmul', 'w', w.dtype);
    if (bias) requireDType(this.name, capabilities, 'matmul', 'bias', bias.dtype);
    const { m, k, n } = checkMatmul(x, w, bias);
    requireDisjoint('matmul', out, [['x', x], ['w', w]]);
    const y = this.output('matmul', [m, n], out);
    const b = bias ? (this.copies.operand(bias) as F32 | number) : null;
    this.device(() => c.matmul(x.data as F32, m, k, this.copies.operand(w), DTYPE_CODE[w.dtype], n, b, y.data as F32, this.parts));
    return y;
  }

  rmsNorm(x: Tensor, weight: Tensor, eps: number, out?: Tensor): Tensor {
    const c = this.live();
    requireDType(this.name, capabilities, 'rmsNorm', 'weight', weight.dtype);
    const { rows, width, slices } = checkRmsNorm(x, weight, eps);
    const y = this.output('rmsNorm', x.shape, out);
    const w = this.copies.operand(weight);
    this.device(() => c.rmsNorm(x.data as F32, w, DTYPE_CODE[weight.dtype], y.data as F32, rows * slices, width, eps));
    return y;
  }

  rope(x: Tensor, options: RopeOptions, out?: Tensor): Tensor {
    const c = this.live();
    const { rows, rotaryDim, maxPosition } = checkRope(x, options);
    const y = this.output('rope', x.shape, out);
    const table = this.ropeTables.table(options, rotaryDim, maxPosition);
    const { cos, sin } = rowAngles(table, options.positions, rows);
    this.device(() => c.rope(x.data as F32, y.data as F32, cos, sin, rows, options.numHeads, options.headDim, table.half));
    return y;
  }

  attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions, out?: Tensor): Tensor {
    const c = this.live();
    const s = checkAttention(q, k, v, options);
    requireDisjoint('attention', out, [['q', q], ['k', k], ['v', v]]);
    const y = this.output('attention', [s.queries, s.numHeads * s.valueHeadDim], out);
    this.device(() =>
      c.attention(
        q.data as F32, k.data as F32, v.data as F32, y.data as F32,
        s.queries, s.keys, s.numHeads, s.numKvHeads, s.headDim, s.scale, s.queryOffset, s.valueHeadDim, this.attentionTensorCores,
      ),
    );
    return y;
  }

  routerTopK(logits: Tensor, options: RouterOptions): RouterChoice {
    const c = this.live();
    const { rows, experts } = checkRouter(logits, options);
    const ids = new Int32Array(rows * options.topK);
    const weights = new Float32Array(rows * options.topK);
    this.device(() => c.routerTopK(logits.data as F32, rows, experts, options.topK, options.renormalize, ids, weights));
    return { topK: options.topK, experts: ids, weights };
  }

  siluMul(gate: Tensor, up: Tensor, out?: Tensor): Tensor {
    const c = this.live();
    const y = this.elementwise('siluMul', gate, 'gate', up, 'up', out);
    this.device(() => c.siluMul(gate.data as F32, up.data as F32, y.data as F32, gate.size));
    return y;
  }

  gatherRows(x: Tensor, index: Int32Array, out?: Tensor): Tensor {
    const c = this.live();
    requireDType(this.name, capabilities, 'gatherRows', 'x', x.dtype);
    const y = checkGatherRows(x, index, out ?? this.slab.take([index.length, x.shape[1] ?? 0]));
    const table = this.copies.operand(x);
    this.device(() => c.gatherRows(table, DTYPE_CODE[x.dtype], x.shape[0], x.shape[1], index, y.data as F32));
    return y;
  }

  scatterAddRows(dst: Tensor, src: Tensor, index: Int32Array, scale?: Float32Array): Tensor {
    const c = this.live();
    checkScatterAddRows(dst, src, index, scale);
    this.device(() => c.scatterAddRows(dst.data as F32, dst.shape[0], src.data as F32, dst.shape[1], index, scale ?? null));
    return dst;
  }

  add(a: Tensor, b: Tensor, out?: Tensor): Tensor {
    const c = this.live();
    const y = this.elementwise('add', a, 'a', b, 'b', out);
    this.device(() => c.add(a.data as F32, b.data as F32, y.data as F32, a.size));
    return y;
  }

  scale(x: Tensor, s: number, out?: Tensor): Tensor {
    const c = this.live();
    checkScale(x, s);
    const y = this.output('scale', x.shape, out);
    this.device(() => c.scale(x.data as F32, y.data as F32, x.size, s));
    return y;
  }

  /** Uploads `t` to the device once (weights); ops then read the device copy. Returns `t` itself. */
  resident(t: Tensor): Tensor {
    this.live();
    this.device(() => this.copies.upload(t));
    return t;
  }

  /** Milliseconds per bf16 (or f32) matmul kernel on device-resident operands: the kernel alone, no host copies. */
  timeMatmulKernel(m: number, k: number, n: number, dtype: 'bf16' | 'f32', iterations: number): number {
    const c = this.live();
    return this.device(() => c.timeMatmul(m, k, n, DTYPE_CODE[dtype], this.parts, iterations));
  }

  /** Milliseconds per causal attention kernel over a `tokens` prompt, device-resident operands. */
  timeAttentionKernel(tokens: number, numHeads: number, numKvHeads: number, headDim: number, iterations: number): number {
    const c = this.live();
    return this.device(() => c.timeAttention(tokens, numHeads, numKvHeads, headDim, iterations, this.attentionTensorCores));
  }

  /** Frees the device copies, scratch and stream: any later call is an error. */
  dispose(): void {
    this.copies.clear();
    this.ropeTables.clear();
    this.context?.dispose();
    this.context = undefined;
  }

  private live(): CudaContext {
    if (!this.context) throw new Error('cuda backend: used after dispose()');
    return this.context;
  }

  /** Runs an addon call, turning its budget error into a DeviceMemoryExceededError. */
  private device<T>(call: () => T): T {
    try {
      return call();
    } catch (error) {
      if (error instanceof Error && (error as { code?: unknown }).code === 'ERR_ASAP_DEVICE_MEMORY') {
        const e = error as Error & { requestedBytes: number; usedBytes: number; budgetBytes: number };
        const detail = e.message.replace(/^cuda backend: device memory budget exceeded: /, '');
        throw new DeviceMemoryExceededError(this.name, e.requestedBytes, e.usedBytes, e.budgetBytes, detail);
      }
      throw error;
    }
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
