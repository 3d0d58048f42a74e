import { Tensor } from '../../tensor/tensor.ts';
import type { AttentionOptions, Backend, BackendCapabilities, RopeOptions, RouterChoice, RouterOptions } from '../backend.ts';
import { requireDType } from '../common/checks.ts';
import { RopeTables } from '../common/rope-table.ts';
import { routerTopK } from '../common/router.ts';
import { gatherRows, scatterAddRows } from '../common/rows.ts';
import { attention } from './attention.ts';
import { add, scale, siluMul } from './elementwise.ts';
import { matmul } from './matmul.ts';
import { rmsNorm } from './norm.ts';
import { rope } from './rope.ts';

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

/** Plain TypeScript, scalar, f32 rounding at every step: slow, obvious, the oracle for every other backend. */
export class JsBackend implements Backend {
  readonly name = 'js' as const;
  readonly capabilities = capabilities;
  private readonly ropeTables = new RopeTables({ alloc: (floats) => Tensor.zeros([floats]), release: () => {} });

  matmul(x: Tensor, w: Tensor, bias?: Tensor, out?: Tensor): Tensor {
    requireDType(this.name, capabilities, 'matmul', 'w', w.dtype);
    if (bias) requireDType(this.name, capabilities, 'matmul', 'bias', bias.dtype);
    return matmul(x, w, bias, out);
  }

  rmsNorm(x: Tensor, weight: Tensor, eps: number, out?: Tensor): Tensor {
    requireDType(this.name, capabilities, 'rmsNorm', 'weight', weight.dtype);
    return rmsNorm(x, weight, eps, out);
  }

  rope(x: Tensor, options: RopeOptions, out?: Tensor): Tensor {
    return rope(x, options, out, this.ropeTables);
  }

  attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions, out?: Tensor): Tensor {
    return attention(q, k, v, options, out);
  }

  routerTopK(logits: Tensor, options: RouterOptions): RouterChoice {
    return routerTopK(logits, options);
  }

  siluMul(gate: Tensor, up: Tensor, out?: Tensor): Tensor {
    return siluMul(gate, up, out);
  }

  gatherRows(x: Tensor, index: Int32Array, out?: Tensor): Tensor {
    requireDType(this.name, capabilities, 'gatherRows', 'x', x.dtype);
    return gatherRows(x, index, out);
  }

  scatterAddRows(dst: Tensor, src: Tensor, index: Int32Array, scale?: Float32Array): Tensor {
    return scatterAddRows(dst, src, index, scale);
  }

  add(a: Tensor, b: Tensor, out?: Tensor): Tensor {
    return add(a, b, out);
  }

  scale(x: Tensor, s: number, out?: Tensor): Tensor {
    return scale(x, s, out);
  }

  resident(t: Tensor): Tensor {
    return t;
  }

  dispose(): void {
    this.ropeTables.clear();
  }
}
