// A Backend that times every op of the one it wraps: where a prefill spends its time, op by op.
import type { Arena, AttentionOptions, Backend, RopeOptions, RouterChoice, RouterOptions, Tensor } from '@asap/runtime';

export interface OpTotal {
  readonly op: string;
  readonly calls: number;
  readonly ms: number;
}

/** Delegates every call to `inner`, adding its wall time to a per-op total. */
export class ProfiledBackend implements Backend {
  readonly name: Backend['name'];
  readonly capabilities: Backend['capabilities'];
  private readonly totals = new Map<string, { calls: number; ms: number }>();

  constructor(private readonly inner: Backend) {
    this.name = inner.name;
    this.capabilities = inner.capabilities;
  }

  /** Per-op totals, the most expensive first. */
  report(): OpTotal[] {
    return [...this.totals].map(([op, t]) => ({ op, ...t })).sort((a, b) => b.ms - a.ms);
  }

  reset(): void {
    this.totals.clear();
  }

  private time<T>(op: string, run: () => T): T {
    const start = performance.now();
    try {
      return run();
    } finally {
      const total = this.totals.get(op) ?? { calls: 0, ms: 0 };
      total.calls++;
      total.ms += performance.now() - start;
      this.totals.set(op, total);
    }
  }

  matmul(x: Tensor, w: Tensor, bias?: Tensor, out?: Tensor): Tensor {
    return this.time('matmul', () => this.inner.matmul(x, w, bias, out));
  }
  rmsNorm(x: Tensor, weight: Tensor, eps: number, out?: Tensor): Tensor {
    return this.time('rmsNorm', () => this.inner.rmsNorm(x, weight, eps, out));
  }
  rope(x: Tensor, options: RopeOptions, out?: Tensor): Tensor {
    return this.time('rope', () => this.inner.rope(x, options, out));
  }
  attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions, out?: Tensor): Tensor {
    return this.time('attention', () => this.inner.attention(q, k, v, options, out));
  }
  routerTopK(logits: Tensor, options: RouterOptions): RouterChoice {
    return this.time('routerTopK', () => this.inner.routerTopK(logits, options));
  }
  siluMul(gate: Tensor, up: Tensor, out?: Tensor): Tensor {
    return this.time('siluMul', () => this.inner.siluMul(gate, up, out));
  }
  gatherRows(x: Tensor, index: Int32Array, out?: Tensor): Tensor {
    return this.time('gatherRows', () => this.inner.gatherRows(x, index, out));
  }
  scatterAddRows(dst: Tensor, src: Tensor, index: Int32Array, scale?: Float32Array): Tensor {
    return this.time('scatterAddRows', () => this.inner.scatterAddRows(dst, src, index, scale));
  }
  add(a: Tensor, b: Tensor, out?: Tensor): Tensor {
    return this.time('add', () => this.inner.add(a, b, out));
  }
  scale(x: Tensor, s: number, out?: Tensor): Tensor {
    return this.time('scale', () => this.inner.scale(x, s, out));
  }
  get arena(): Arena | undefined {
    return this.inner.arena;
  }
  resident(t: Tensor): Tensor {
    return this.inner.resident(t);
  }
  dispose(): void {
    this.inner.dispose();
  }
}
