import type { HardwareProfile } from './hardware-profile.ts';

/**
 * One Ascend 910C NPU (both dies) per rank on a CloudMatrix384-like Unified Bus (UB) network: every NPU
 * reaches every other in one hop at full bandwidth. Sources: Zuo et al., "Serving Large Language Models on
 * Huawei CloudMatrix384" (arXiv 2506.12708; CloudMatrix-Infer), and xDeepServe (Huawei Cloud, arXiv 2508.02520).
 */
export const CM384: HardwareProfile = {
  name: 'cm384',
  models: 'Ascend 910C NPUs on a CloudMatrix384-like UB network (384 NPUs, all-to-all one hop), one NPU per rank',
  device: {
    // CloudMatrix384 paper §3: a 910C package is two dies of ≈ 376 TFLOPS BF16 each: 752 TFLOPS per NPU.
    peakFlopsPerS: 752e12,
    // Same: 128 GB of on-package memory at 3.2 TB/s per NPU (1.6 TB/s per die).
    memoryBytesPerS: 3.2e12,
    // Fitted to the anchor, not published: CloudMatrix-Infer prefills DeepSeek at ≈ 5,655 tokens/s per NPU
    // with 4K prompts (arXiv 2506.12708v1; v2 reports 6,688 after further tuning). With the ranks' op costs
    // a 4K prompt per NPU under the EP layout (16 NPUs, 16 routed experts each, 2,048 rows per expert, fp8
    // weights: 1 byte) is 334.4 TFLOP, 81.6 GFLOP per token. At 5,655 tokens/s the 4,096 tokens take
    // 724 ms; combine (memory-bound, 75 GB at 0.8 × 3.2 TB/s) takes 29 ms, the per-op overhead 3.6 ms, which
    // leaves 691 ms for the compute-bound ops: 334.4e12 / (0.691 s × 752e12) = 0.64 (predicting 5,626). It is relative to the
    // bf16 peak and absorbs what the real system does differently (INT8 matmuls at twice the bf16 rate,
    // communication not fully overlapped). The bench test `cm384-anchor` checks the result stays within 10%.
    computeEfficiency: 0.64,
    // Not published for the 910C; as for HBM on other accelerators (STREAM-like kernels reach 80-90%): 0.8.
    memoryEfficiency: 0.8,
    // An assumption: a few fused kernels per op at a few µs of launch each (CANN, as CUDA), mostly overlapped.
    overheadUs: 20,
  },
  link: {
    // CloudMatrix384 paper §3: each 910C has 392 GB/s of unidirectional UB bandwidth to the UB switches.
    bytesPerS: 392e9,
    // Not published as a fraction; an assumption in line with large all-to-all transfers on NVLink (DeepEP,
    // ≈ 0.77 of nominal): 0.8.
    efficiency: 0.8,
    // xDeepServe: attention→expert dispatch ≈ 172 µs and expert→attention combine ≈ 193 µs at full scale.
    // A typical dispatch message of the sim (one attention rank's 256-token micro-batch, 8 routed rows per
    // token, to one of 192 expert ranks: 10.7 rows × 7,168 bf16 values = 153 KB, as shape-only rows are
    // charged) spends 0.5 µs on the wire at 0.8 × 392 GB/s, so a 171 µs latency puts it at 171.5 µs (combine
    // replies then land ≈ 11% early against xDeepServe's 193 µs).
    latencyUs: 171,
  },
};
