// The cuda rows of `asap bench kernels`: TFLOP/s of the kernels alone (operands made and kept on the device,
// CUDA events around repeated launches) against the H200's dense bf16 peak, plus one matmul through the
// Backend interface, whose host↔device copies per call are what the engines pay.
import { type CudaBackend, Tensor, createBackend, cudaUnavailableReason } from '@asap/runtime';
import { formatNumber, formatTable } from '../report/table.ts';

/** Dense bf16 tensor-core peak of an H200 (SXM), the yardstick. */
export const H200_BF16_PEAK_TFLOPS = 989;
/** The matmul (M, K, N) and causal attention prompt; a Llama/Qwen-like GQA head layout. */
const MATMUL = { m: 4096, k: 2048, n: 7168 } as const;
const ATTENTION = { tokens: 8192, numHeads: 32, numKvHeads: 8, headDim: 128 } as const;

export interface CudaKernelRow {
  readonly kernel: 'matmul' | 'attention';
  readonly what: string;
  readonly ms: number;
  readonly tflops: number;
  /** Percent of the H200 dense bf16 peak. */
  readonly percentOfPeak: number;
  /** Kernel only (device-resident operands), or a backend call with its host copies. */
  readonly scope: 'kernel' | 'backend call';
}

export interface CudaKernelReport {
  readonly device: string;
  readonly rows: readonly CudaKernelRow[];
  readonly targets: { readonly matmulPercent: number; readonly attentionPercent: number };
}

function row(kernel: CudaKernelRow['kernel'], what: string, flops: number, ms: number, scope: CudaKernelRow['scope']): CudaKernelRow {
  const tflops = flops / (ms * 1e9);
  return { kernel, what, ms, tflops, percentOfPeak: (100 * tflops) / H200_BF16_PEAK_TFLOPS, scope };
}

/** The cuda measurements, or undefined with the reason where this machine has no usable GPU. */
export async function cudaKernels(quick: boolean): Promise<CudaKernelReport | { readonly unavailable: string }> {
  const reason = cudaUnavailableReason();
  if (reason !== undefined) return { unavailable: reason };
  const rows: CudaKernelRow[] = [];
  const { m, k, n } = MATMUL;
  const matmulFlops = 2 * m * k * n;
  const iterations = quick ? 3 : 20;
  for (const activations of ['bf16', 'split'] as const) {
    const be = (await createBackend('cuda', { matmulActivations: activations })) as CudaBackend;
    try {
      const ms = be.timeMatmulKernel(m, k, n, 'bf16', iterations);
      rows.push(row('matmul', `bf16 W, ${activations === 'bf16' ? 'bf16 X' : 'X split hi+lo (2 MMAs)'}, (${m}, ${k}, ${n})`, matmulFlops, ms, 'kernel'));
      if (activations === 'split') {
        rows.push(row('matmul', `f32 W, CUDA cores, (${m}, ${k}, ${n})`, matmulFlops, be.timeMatmulKernel(m, k, n, 'f32', Math.min(iterations, 5)), 'kernel'));
        const x = Tensor.zeros([m, k]);
        const w = be.resident(Tensor.zeros([n, k], 'bf16'));
        const y = Tensor.zeros([m, n]);
        be.matmul(x, w, undefined, y);
        const started = performance.now();
        const calls = quick ? 1 : 3;
        for (let i = 0; i < calls; i++) be.matmul(x, w, undefined, y);
        rows.push(row('matmul', `bf16 W resident, X and Y copied per call, (${m}, ${k}, ${n})`, matmulFlops, (performance.now() - started) / calls, 'backend call'));
      }
    } finally {
      be.dispose();
    }
  }
  const { tokens, numHeads, numKvHeads, headDim } = ATTENTION;
  // Causal FLOPs only: q·k and p·v over the keys each row sees (row i sees i + 1).
  const attentionFlops = 4 * numHeads * headDim * ((tokens * (tokens + 1)) / 2);
  let device = '';
  for (const precision of ['f32', 'bf16'] as const) {
    const be = (await createBackend('cuda', { attentionPrecision: precision })) as CudaBackend;
    try {
      device = be.deviceName;
      const ms = be.timeAttentionKernel(tokens, numHeads, numKvHeads, headDim, quick ? 1 : 3);
      const how = precision === 'f32' ? 'f32, CUDA cores' : 'bf16 q/k/v/p, tensor cores';
      rows.push(row('attention', `causal, ${how}, ${tokens} tokens, ${numHeads}/${numKvHeads} heads × ${headDim}`, attentionFlops, ms, 'kernel'));
    } finally {
      be.dispose();
    }
  }
  const best = (kernel: CudaKernelRow['kernel']) => Math.max(...rows.filter((r) => r.kernel === kernel && r.scope === 'kernel').map((r) => r.percentOfPeak));
  return { device, rows, targets: { matmulPercent: best('matmul'), attentionPercent: best('attention') } };
}

export function printCudaKernels(report: CudaKernelReport | { readonly unavailable: string }): void {
  if ('unavailable' in report) {
    process.stdout.write(`cuda: unavailable (${report.unavailable})\n`);
    return;
  }
  const cells = report.rows.map((r) => [r.kernel, r.scope, formatNumber(r.ms, 3), formatNumber(r.tflops), `${formatNumber(r.percentOfPeak)}%`, r.what]);
  process.stdout.write(`cuda on ${report.device} (percent of the ${H200_BF16_PEAK_TFLOPS} TFLOP/s dense bf16 peak)\n`);
  process.stdout.write(`${formatTable(['kernel', 'scope', 'ms', 'TFLOP/s', 'of peak', 'what'], cells)}\n`);
  const { matmulPercent, attentionPercent } = report.targets;
  process.stdout.write(
    `targets: bf16 matmul ${matmulPercent.toFixed(1)}% (≥ 50%: ${matmulPercent >= 50 ? 'met' : 'missed'}), ` +
      `attention 8K ${attentionPercent.toFixed(1)}% (≥ 30%: ${attentionPercent >= 30 ? 'met' : 'missed'})\n`,
  );
}
