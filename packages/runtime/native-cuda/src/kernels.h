// The CUDA kernels' host-side launchers (kernels.cu), callable from plain C++ (the addon is compiled by the host
// compiler, not nvcc). Every pointer is device memory; every launch goes on `stream` and returns the launch
// error (kernel faults surface at the caller's stream synchronisation).
//
// Batch invariance: every kernel's launch shape and per-output reduction order depend only on the op's
// widths (K, head dims, column counts), never on how many rows share the call, so a row's result never
// depends on its neighbours.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace asap_cuda {

/** Storage dtype of a weight-like operand (the same codes as the CPU addon's table.h). */
enum WeightType : int { W_F32 = 0, W_BF16 = 1, W_F16 = 2 };

/**
 * How the tensor-core matmul reads the f32 activations: SPLIT as x = hi + lo, two bf16 parts (two MMAs per
 * step; ≈ 16 significant bits, near-f32 results); ROUNDED as one bf16 (one MMA; the classic bf16 GEMM).
 */
enum ActivationParts : int { ROUNDED = 1, SPLIT = 2 };

/** Whether matmul uses the bf16 tensor-core kernel for these operands (bf16 weights, K a multiple of 8). */
bool matmulUsesTensorCores(int wType, int k);

/** Device scratch bytes matmul needs beside its operands (the bf16 parts of x), 0 without tensor cores. */
size_t matmulScratchBytes(int m, int k, int wType, int parts);

/**
 * y[m,n] = x[m,k] · w[n,k]ᵀ (+ bias[n]). Tensor cores for bf16 weights (f32 accumulation, per-output
 * k order fixed by the tiling), else an f32 SIMT kernel (one fused multiply-add per k, in k order).
 * `scratch` holds matmulScratchBytes(...) bytes.
 */
cudaError_t matmul(const float* x, int m, int k, const void* w, int wType, int n, const float* bias, float* y, int parts,
                   void* scratch, cudaStream_t stream);

/**
 * Causal GQA (flash-style: online softmax, memory linear in the keys). Head dims ≤ 256. f32 on CUDA cores (key
 * tiles of 32), or with `tensorCores` where attentionUsesTensorCores: q, k, v and the softmax weights rounded to
 * bf16, wmma with f32 accumulation (key tiles of 64).
 */
cudaError_t attention(const float* q, const float* k, const float* v, float* out, int queries, int keys, int numHeads,
                      int numKvHeads, int headDim, int valueDim, float scale, int queryOffset, bool tensorCores, cudaStream_t stream);

/** Whether attention can take the tensor-core path: both head widths multiples of 16, at most kMaxHeadDim. */
bool attentionUsesTensorCores(int headDim, int valueDim);

/** The largest head width attention takes (q/k and v alike). */
constexpr int kMaxHeadDim = 256;

cudaError_t rmsNorm(const float* x, const void* w, int wType, float* y, int slices, int width, float eps, cudaStream_t stream);

/** Rotate-half RoPE with per-row cos/sin [rows, half]; dims past 2·half are copied. y must not alias x. */
cudaError_t rope(const float* x, float* y, const float* cosT, const float* sinT, int rows, int numHeads, int headDim, int half,
                 cudaStream_t stream);

cudaError_t add(const float* a, const float* b, float* y, size_t n, cudaStream_t stream);
cudaError_t scale(const float* x, float* y, size_t n, float s, cudaStream_t stream);
cudaError_t siluMul(const float* gate, const float* up, float* y, size_t n, cudaStream_t stream);

/** out[i] = x[index[i]] widened to f32. Indices are checked by the caller. */
cudaError_t gatherRows(const void* x, int xType, int cols, const int32_t* index, int count, float* out, cudaStream_t stream);

/** dst[index[i]] += scale[i]·src[i] in i order (scale may be null: 1). Indices are checked by the caller. */
cudaError_t scatterAddRows(float* dst, const float* src, int cols, const int32_t* index, int count, const float* scale,
                           cudaStream_t stream);

/** Softmax per row then top-k (descending, lowest id on ties). `probs` is rows·experts floats of scratch. */
cudaError_t routerTopK(const float* logits, int rows, int experts, int topK, bool renormalize, int32_t* ids, float* weights,
                       float* probs, cudaStream_t stream);

/** Fills n floats with a deterministic pattern in [-1, 1) (the kernel benchmarks' operands). */
cudaError_t fillPattern(float* x, size_t n, uint32_t seed, cudaStream_t stream);

/** Converts n f32 values to bf16 (round to nearest even), for benchmark weights made on the device. */
cudaError_t toBf16(const float* x, uint16_t* y, size_t n, cudaStream_t stream);

}  // namespace asap_cuda
