import type { HardwareProfile } from './hardware-profile.ts';

/**
 * One NVIDIA H200 SXM per rank, ranks joined by NVLink 4 (an HGX H200 node; beyond 8 GPUs this is an
 * NVLink-switch-class fabric, as in the NVL systems).
 */
export const H200: HardwareProfile = {
  name: 'h200',
  models: 'NVIDIA H200 SXM GPUs (bf16) on NVLink-4-class links, one GPU per rank',
  device: {
    // NVIDIA H200 Tensor Core GPU datasheet: BF16 Tensor Core 1,979 TFLOPS with sparsity, i.e. 989 dense.
    peakFlopsPerS: 989e12,
    // Same datasheet: 141 GB HBM3e at 4.8 TB/s.
    memoryBytesPerS: 4.8e12,
    // Large bf16 GEMMs on Hopper reach ≈ 70-80% of dense peak (cuBLAS; DeepGEMM reports up to 1,550 of
    // 1,979 FP8 TFLOPS on H800 = 78%): 0.7 for the expert and projection matmuls.
    computeEfficiency: 0.7,
    // Streaming kernels reach ≈ 80-90% of HBM bandwidth (STREAM-like copies on H100/H200); 0.8.
    memoryEfficiency: 0.8,
    // A CUDA kernel launch costs ≈ 2-5 µs, and an op here is a few fused kernels, mostly overlapped with
    // the previous op's execution: 10 µs exposed per op (an assumption, small against ms-long prefill ops).
    overheadUs: 10,
    ops: {
      // FlashAttention-3 (Shah et al. 2024, arXiv 2407.08608): up to 740 TFLOPS FP16 = 75% of H100 peak on
      // long sequences, less on short ones; with the projections around it, 0.6 for the attention half.
      attention: { compute: 0.6 },
    },
  },
  link: {
    // NVIDIA H200 datasheet: NVLink 900 GB/s per GPU, bidirectional: 450 GB/s each way.
    bytesPerS: 450e9,
    // DeepEP README (deepseek-ai/DeepEP): intranode dispatch/combine reach 153/158 GB/s on H800, whose NVLink
    // gives 200 GB/s each way (400 GB/s bidirectional): ≈ 0.77 of the nominal figure.
    efficiency: 0.77,
    // DeepEP README: low-latency dispatch of 128 tokens at EP 8 takes 77 µs (H800, with RDMA); taken as the
    // fixed cost of one dispatch message (software on both ends plus the network).
    latencyUs: 77,
  },
};
