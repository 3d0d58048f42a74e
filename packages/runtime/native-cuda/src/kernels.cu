// The CUDA kernels (sm_90). Correctness first: every global load is bounds-checked (ragged M, N, K, head and
// key counts are zero-filled in shared memory), and every output's reduction order is fixed by the op's
// widths alone, so results are batch-invariant. Elementwise ops, rope, gather and scatter use separately
// rounded operations (__fmul_rn, __fadd_rn) in the js backend's order, giving its bits.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include <algorithm>
#include <cmath>

#include "kernels.h"

namespace asap_cuda {
namespace {

using bf16 = __nv_bfloat16;

template <class T>
__host__ __device__ constexpr T ceilDiv(T a, T b) {
  return (a + b - 1) / b;
}

__device__ __forceinline__ float loadWeight(const void* w, int wType, size_t i) {
  if (wType == W_BF16) return __bfloat162float(static_cast<const bf16*>(w)[i]);
  if (wType == W_F16) return __half2float(static_cast<const __half*>(w)[i]);
  return static_cast<const float*>(w)[i];
}

// ---------------------------------------------------------------------------------------------------------
// matmul, tensor cores: bf16 weights, activations as one or two bf16 parts, f32 accumulation (wmma 16×16×16).
// A 128×128 output tile per block of 8 warps (2 × 4, each 64×32 = 4 × 2 fragments); K in steps of 32,
// double-buffered with cp.async (16-byte chunks; a chunk past M, N or K is zero-filled, never read).

constexpr int TC_BM = 128, TC_BN = 128, TC_BK = 32;
constexpr int TC_LDS = TC_BK + 8;  // bf16 per shared row: 80 bytes keeps 16-row fragments 32-byte aligned
constexpr int TC_WARPS_M = 2, TC_WARPS_N = 4, TC_THREADS = 32 * TC_WARPS_M * TC_WARPS_N;
constexpr int TC_WM = TC_BM / TC_WARPS_M, TC_WN = TC_BN / TC_WARPS_N;  // 64 × 32 per warp
constexpr int TC_FM = TC_WM / 16, TC_FN = TC_WN / 16;
constexpr int TC_CHUNKS = TC_BK / 8;  // 16-byte chunks per shared row

constexpr size_t tcSharedBytes(int parts) {
  return sizeof(bf16) * (size_t)2 * TC_LDS * ((size_t)parts * TC_BM + TC_BN) + sizeof(float) * 256 * (TC_THREADS / 32);
}

__device__ __forceinline__ void cpAsync16(void* dst, const void* src, int srcBytes) {
  const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(d), "l"(src), "r"(srcBytes));
}
__device__ __forceinline__ void cpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int pending>
__device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(pending));
}

/** x (f32) → `parts` bf16 planes [parts][m*k]: plane 0 = rn(x), plane 1 = rn(x − plane 0). */
__global__ void splitActivations(const float* __restrict__ x, bf16* __restrict__ planes, size_t n, int parts) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
    const float v = x[i];
    const bf16 hi = __float2bfloat16_rn(v);
    planes[i] = hi;
    if (parts == SPLIT) planes[n + i] = __float2bfloat16_rn(v - __bfloat162float(hi));
  }
}

template <int PARTS>
__global__ void __launch_bounds__(TC_THREADS) tensorCoreMatmul(const bf16* __restrict__ xp, const bf16* __restrict__ w,
                                                                 const float* __restrict__ bias, float* __restrict__ y, int m,
                                                                 int n, int k) {
  using namespace nvcuda;
  extern __shared__ __align__(128) unsigned char shared[];
  bf16* sA = reinterpret_cast<bf16*>(shared);  // [stage][part][TC_BM][TC_LDS]
  bf16* sB = sA + (size_t)2 * PARTS * TC_BM * TC_LDS;  // [stage][TC_BN][TC_LDS]: rows of w = columns of y
  float* sC = reinterpret_cast<float*>(sB + (size_t)2 * TC_BN * TC_LDS);  // a 16×16 staging tile per warp

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int wm = warp / TC_WARPS_N, wn = warp % TC_WARPS_N;
  const int row0 = blockIdx.y * TC_BM, col0 = blockIdx.x * TC_BN;
  const size_t plane = (size_t)m * k;

  auto load = [&](int stage, int tile) {
    const int k0 = tile * TC_BK;
    for (int c = tid; c < PARTS * TC_BM * TC_CHUNKS; c += TC_THREADS) {
      const int p = c / (TC_BM * TC_CHUNKS), r = (c / TC_CHUNKS) % TC_BM, ch = c % TC_CHUNKS;
      const int gr = row0 + r, gk = k0 + ch * 8;
      const bool inside = gr < m && gk < k;  // k % 8 == 0: a chunk is wholly inside or wholly outside
      const bf16* src = inside ? xp + p * plane + (size_t)gr * k + gk : xp;
      cpAsync16(sA + ((size_t)(stage * PARTS + p) * TC_BM + r) * TC_LDS + ch * 8, src, inside ? 16 : 0);
    }
    for (int c = tid; c < TC_BN * TC_CHUNKS; c += TC_THREADS) {
      const int r = c / TC_CHUNKS, ch = c % TC_CHUNKS;
      const int gn = col0 + r, gk = k0 + ch * 8;
      const bool inside = gn < n && gk < k;
      const bf16* src = inside ? w + (size_t)gn * k + gk : w;
      cpAsync16(sB + ((size_t)stage * TC_BN + r) * TC_LDS + ch * 8, src, inside ? 16 : 0);
    }
    cpAsyncCommit();
  };

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[TC_FM][TC_FN];
  #pragma unroll
  for (int i = 0; i < TC_FM; i++)
    #pragma unroll
    for (int j = 0; j < TC_FN; j++) wmma::fill_fragment(acc[i][j], 0.0f);

  const int tiles = ceilDiv(k, TC_BK);
  if (tiles > 0) load(0, 0);
  for (int t = 0; t < tiles; t++) {
    const int stage = t & 1;
    // The other stage was last read in iteration t − 1, which ended with a barrier: safe to refill.
    if (t + 1 < tiles) {
      load(stage ^ 1, t + 1);
      cpAsyncWait<1>();
    } else {
      cpAsyncWait<0>();
    }
    __syncthreads();
    #pragma unroll
    for (int kk = 0; kk < TC_BK; kk += 16) {
      wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> b[TC_FN];
      #pragma unroll
      for (int j = 0; j < TC_FN; j++) {
        wmma::load_matrix_sync(b[j], sB + ((size_t)stage * TC_BN + wn * TC_WN + j * 16) * TC_LDS + kk, TC_LDS);
      }
      // Per output, per k step: part 0 then part 1, always; the sum order is fixed by k alone.
      #pragma unroll
      for (int p = 0; p < PARTS; p++) {
        #pragma unroll
        for (int i = 0; i < TC_FM; i++) {
          wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> a;
          wmma::load_matrix_sync(a, sA + ((size_t)(stage * PARTS + p) * TC_BM + wm * TC_WM + i * 16) * TC_LDS + kk, TC_LDS);
          #pragma unroll
          for (int j = 0; j < TC_FN; j++) wmma::mma_sync(acc[i][j], a, b[j], acc[i][j]);
        }
      }
    }
    __syncthreads();
  }

  float* stageC = sC + warp * 256;
  #pragma unroll
  for (int i = 0; i < TC_FM; i++) {
    #pragma unroll
    for (int j = 0; j < TC_FN; j++) {
      wmma::store_matrix_sync(stageC, acc[i][j], 16, wmma::mem_row_major);
      __syncwarp();
      for (int e = lane; e < 256; e += 32) {
        const int gr = row0 + wm * TC_WM + i * 16 + e / 16;
        const int gc = col0 + wn * TC_WN + j * 16 + e % 16;
        if (gr < m && gc < n) y[(size_t)gr * n + gc] = bias ? __fadd_rn(stageC[e], bias[gc]) : stageC[e];
      }
      __syncwarp();
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// matmul, SIMT f32 (f32 or f16 weights, or K not a multiple of 8): 64×64 outputs per block of 256 threads,
// 4×4 each; K in steps of 16 through shared memory; one fused multiply-add per k, in k order.

constexpr int SM_TILE = 64, SM_BK = 16, SM_THREADS = 256;

__global__ void __launch_bounds__(SM_THREADS) simtMatmul(const float* __restrict__ x, const void* __restrict__ w, int wType,
                                                         const float* __restrict__ bias, float* __restrict__ y, int m, int n, int k) {
  __shared__ float sx[SM_BK][SM_TILE + 1];
  __shared__ float sw[SM_BK][SM_TILE + 1];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int row0 = blockIdx.y * SM_TILE, col0 = blockIdx.x * SM_TILE;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < k; k0 += SM_BK) {
    for (int i = threadIdx.x; i < SM_TILE * SM_BK; i += SM_THREADS) {
      const int r = i / SM_BK, kk = i % SM_BK, gk = k0 + kk;
      const int gr = row0 + r, gn = col0 + r;
      sx[kk][r] = gr < m && gk < k ? x[(size_t)gr * k + gk] : 0.0f;
      sw[kk][r] = gn < n && gk < k ? loadWeight(w, wType, (size_t)gn * k + gk) : 0.0f;
    }
    __syncthreads();
    for (int kk = 0; kk < SM_BK; kk++) {
      float a[4], b[4];
      for (int i = 0; i < 4; i++) a[i] = sx[kk][ty + 16 * i];
      for (int j = 0; j < 4; j++) b[j] = sw[kk][tx + 16 * j];
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
  for (int i = 0; i < 4; i++) {
    for (int j = 0; j < 4; j++) {
      const int gr = row0 + ty + 16 * i, gc = col0 + tx + 16 * j;
      if (gr < m && gc < n) y[(size_t)gr * n + gc] = bias ? __fadd_rn(acc[i][j], bias[gc]) : acc[i][j];
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// attention: a block of 8 warps takes 8 consecutive query rows of one head (a warp per row). Key tiles of 32,
// from key 0 whatever the rows, are staged in shared memory (k padded by one float against bank conflicts);
// lane j scores key j of the tile (q·k in d order), the warp folds the tile into its online softmax (max
// exact; sums by a fixed shuffle tree) and writes its weight to shared memory, and lane l accumulates output
// dims l, l+32, … over the tile's keys in order.

constexpr int AT_ROWS = 8, AT_KEYS = 32, AT_THREADS = 32 * AT_ROWS, AT_DIMS_PER_LANE = kMaxHeadDim / 32;

size_t attentionSharedBytes(int headDim, int valueDim) {
  return sizeof(float) *
         ((size_t)AT_KEYS * (headDim + 1) + (size_t)AT_KEYS * valueDim + (size_t)AT_ROWS * headDim + (size_t)AT_ROWS * AT_KEYS);
}

/** The warp's sum of v, the same bits on every lane: a fixed tree to lane 0, then broadcast. */
__device__ __forceinline__ float warpSum(float v) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffffu, v, o);
  return __shfl_sync(0xffffffffu, v, 0);
}

__device__ __forceinline__ float warpMax(float v) {
  for (int o = 16; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

__global__ void __launch_bounds__(AT_THREADS) flashAttention(const float* __restrict__ q, const float* __restrict__ k,
                                                             const float* __restrict__ v, float* __restrict__ out, int queries,
                                                             int keys, int numHeads, int numKvHeads, int headDim, int valueDim,
                                                             float scale, int queryOffset) {
  extern __shared__ __align__(16) float sm[];
  const int kStride = headDim + 1;
  float* sK = sm;                                  // [AT_KEYS][headDim + 1]
  float* sV = sK + (size_t)AT_KEYS * kStride;      // [AT_KEYS][valueDim]
  float* sQ = sV + (size_t)AT_KEYS * valueDim;     // [AT_ROWS][headDim]
  float* sP = sQ + (size_t)AT_ROWS * headDim;      // [AT_ROWS][AT_KEYS]: each warp's key weights of the tile

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int h = blockIdx.y, g = h / (numHeads / numKvHeads);
  const int row0 = blockIdx.x * AT_ROWS;
  const int row = row0 + warp;
  const bool live = row < queries;
  const int pos = queryOffset + row;  // this row attends to keys 0..pos
  const int lastRow = min(queries, row0 + AT_ROWS) - 1;
  const int lastKey = min(keys - 1, queryOffset + lastRow);
  const size_t qWidth = (size_t)numHeads * headDim, kWidth = (size_t)numKvHeads * headDim;
  const size_t vWidth = (size_t)numKvHeads * valueDim, oWidth = (size_t)numHeads * valueDim;

  for (int i = tid; i < AT_ROWS * headDim; i += AT_THREADS) {
    const int r = row0 + i / headDim;
    sQ[i] = r < queries ? q[(size_t)r * qWidth + (size_t)h * headDim + i % headDim] : 0.0f;
  }

  float m = -INFINITY, l = 0.0f;
  float acc[AT_DIMS_PER_LANE];
  for (int i = 0; i < AT_DIMS_PER_LANE; i++) acc[i] = 0.0f;
  const float* qRow = sQ + (size_t)warp * headDim;

  for (int j0 = 0; j0 <= lastKey; j0 += AT_KEYS) {
    __syncthreads();  // the previous tile is no longer read (and, the first time, sQ is written)
    for (int i = tid; i < AT_KEYS * headDim; i += AT_THREADS) {
      const int jj = i / headDim, d = i % headDim, j = j0 + jj;
      sK[jj * kStride + d] = j < keys ? k[(size_t)j * kWidth + (size_t)g * headDim + d] : 0.0f;
    }
    for (int i = tid; i < AT_KEYS * valueDim; i += AT_THREADS) {
      const int jj = i / valueDim, d = i % valueDim, j = j0 + jj;
      sV[i] = j < keys ? v[(size_t)j * vWidth + (size_t)g * valueDim + d] : 0.0f;
    }
    __syncthreads();
    if (!live || j0 > pos) continue;  // the warp's whole tile is masked: nothing to fold in
    const int j = j0 + lane;
    const bool visible = j <= pos && j < keys;
    float s = -INFINITY;
    if (visible) {
      const float* kRow = sK + lane * kStride;
      float dot = 0.0f;
      for (int d = 0; d < headDim; d++) dot = fmaf(qRow[d], kRow[d], dot);
      s = dot * scale;
    }
    const float mNew = fmaxf(m, warpMax(s));  // finite: key j0 ≤ pos is visible
    const float p = visible ? expf(s - mNew) : 0.0f;
    const float alpha = expf(m - mNew);  // 0 on the first tile (m = −∞)
    l = l * alpha + warpSum(p);
    float* pRow = sP + warp * AT_KEYS;
    pRow[lane] = p;
    __syncwarp();
    for (int i = 0; i < AT_DIMS_PER_LANE; i++) {
      const int d = lane + 32 * i;
      if (d < valueDim) {
        float sum = 0.0f;
        for (int jj = 0; jj < AT_KEYS; jj++) sum = fmaf(pRow[jj], sV[jj * valueDim + d], sum);
        acc[i] = acc[i] * alpha + sum;
      }
    }
    __syncwarp();  // pRow is rewritten on the next tile
    m = mNew;
  }
  if (!live) return;
  for (int i = 0; i < AT_DIMS_PER_LANE; i++) {
    const int d = lane + 32 * i;
    if (d < valueDim) out[(size_t)row * oWidth + (size_t)h * valueDim + d] = acc[i] / l;
  }
}

// ---------------------------------------------------------------------------------------------------------
// attention on tensor cores (opt-in: q, k, v and the softmax weights rounded to bf16; f32 accumulation, f32
// softmax statistics). A block of 4 warps takes 64 query rows of one head (16 rows per warp); key tiles of
// 64 from key 0 are staged as bf16. Per tile each warp computes its scores S = Q·Kᵀ (wmma), folds them row by
// row into its online softmax (lanes over keys; max exact, sums by a fixed tree), writes P as bf16, rescales
// its rows of the f32 output kept in shared memory and adds P·V (wmma, accumulator loaded from and stored to
// shared memory). A row with no visible key in a tile gets p = 0 and a scale of exactly 1: a no-op, so a row's
// result does not depend on the other rows of its block. Head widths: multiples of 16, at most 256.

constexpr int TA_ROWS = 64, TA_KEYS = 64, TA_WARPS = 4, TA_THREADS = 32 * TA_WARPS;

struct TaLayout {
  int ldq, ldv, ldp, lds, ldo;  // leading dimensions (elements) of sQ/sK, sV, sP, sS, sO
  size_t q, k, v, p, s, o, stats, bytes;  // byte offsets in shared memory, and the total
};

__host__ __device__ inline TaLayout taLayout(int headDim, int valueDim) {
  TaLayout t;
  t.ldq = headDim + 8;  // bf16 rows of 2·(headDim + 8) bytes: 16-row fragment origins stay 32-byte aligned
  t.ldv = valueDim + 8;
  t.ldp = TA_KEYS + 8;
  t.lds = TA_KEYS + 4;
  t.ldo = valueDim + 4;
  size_t at = 0;
  t.q = at, at += sizeof(bf16) * TA_ROWS * t.ldq;
  t.k = at, at += sizeof(bf16) * TA_KEYS * t.ldq;
  t.v = at, at += sizeof(bf16) * TA_KEYS * t.ldv;
  t.p = at, at += sizeof(bf16) * TA_ROWS * t.ldp;
  t.s = at, at += sizeof(float) * TA_ROWS * t.lds;
  t.o = at, at += sizeof(float) * TA_ROWS * t.ldo;
  t.stats = at, at += sizeof(float) * TA_ROWS * 3;  // m, l, alpha per row
  t.bytes = at;
  return t;
}

__global__ void __launch_bounds__(TA_THREADS) tensorCoreAttention(const float* __restrict__ q, const float* __restrict__ k,
                                                                  const float* __restrict__ v, float* __restrict__ out, int queries,
                                                                  int keys, int numHeads, int numKvHeads, int headDim, int valueDim,
                                                                  float scale, int queryOffset) {
  using namespace nvcuda;
  extern __shared__ __align__(128) unsigned char shared[];
  const TaLayout L = taLayout(headDim, valueDim);
  bf16* sQ = reinterpret_cast<bf16*>(shared + L.q);
  bf16* sK = reinterpret_cast<bf16*>(shared + L.k);
  bf16* sV = reinterpret_cast<bf16*>(shared + L.v);
  bf16* sP = reinterpret_cast<bf16*>(shared + L.p);
  float* sS = reinterpret_cast<float*>(shared + L.s);
  float* sO = reinterpret_cast<float*>(shared + L.o);
  float* sM = reinterpret_cast<float*>(shared + L.stats);
  float* sL = sM + TA_ROWS;
  float* sAlpha = sL + TA_ROWS;

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int h = blockIdx.y, g = h / (numHeads / numKvHeads);
  const int row0 = blockIdx.x * TA_ROWS;
  const int wRow0 = warp * 16;  // the warp's first row in the block
  const size_t qWidth = (size_t)numHeads * headDim, kWidth = (size_t)numKvHeads * headDim;
  const size_t vWidth = (size_t)numKvHeads * valueDim, oWidth = (size_t)numHeads * valueDim;
  const int lastRow = min(queries, row0 + TA_ROWS) - 1;
  const int lastKey = min(keys - 1, queryOffset + lastRow);
  // The last key any of the warp's live rows sees (below 0: the warp has no live row).
  const int warpLastRow = min(queries, row0 + wRow0 + 16) - 1;
  const int warpLastKey = warpLastRow < row0 + wRow0 ? -1 : min(keys - 1, queryOffset + warpLastRow);

  for (int i = tid; i < TA_ROWS * headDim; i += TA_THREADS) {
    const int r = i / headDim, d = i % headDim, row = row0 + r;
    sQ[r * L.ldq + d] = __float2bfloat16_rn(row < queries ? q[(size_t)row * qWidth + (size_t)h * headDim + d] : 0.0f);
  }
  for (int i = tid; i < TA_ROWS * valueDim; i += TA_THREADS) sO[(i / valueDim) * L.ldo + i % valueDim] = 0.0f;
  for (int i = tid; i < TA_ROWS; i += TA_THREADS) {
    sM[i] = -INFINITY;
    sL[i] = 0.0f;
  }

  for (int j0 = 0; j0 <= lastKey; j0 += TA_KEYS) {
    __syncthreads();  // the previous tile is no longer read (and, the first time, sQ, sO and the stats are written)
    for (int i = tid; i < TA_KEYS * headDim; i += TA_THREADS) {
      const int jj = i / headDim, d = i % headDim, j = j0 + jj;
      sK[jj * L.ldq + d] = __float2bfloat16_rn(j < keys ? k[(size_t)j * kWidth + (size_t)g * headDim + d] : 0.0f);
    }
    for (int i = tid; i < TA_KEYS * valueDim; i += TA_THREADS) {
      const int jj = i / valueDim, d = i % valueDim, j = j0 + jj;
      sV[jj * L.ldv + d] = __float2bfloat16_rn(j < keys ? v[(size_t)j * vWidth + (size_t)g * valueDim + d] : 0.0f);
    }
    __syncthreads();
    if (j0 > warpLastKey) continue;  // no live row of this warp sees the tile

    for (int kf = 0; kf < TA_KEYS / 16; kf++) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.0f);
      for (int ks = 0; ks < headDim / 16; ks++) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> b;
        wmma::load_matrix_sync(a, sQ + wRow0 * L.ldq + ks * 16, L.ldq);
        wmma::load_matrix_sync(b, sK + kf * 16 * L.ldq + ks * 16, L.ldq);
        wmma::mma_sync(acc, a, b, acc);
      }
      wmma::store_matrix_sync(sS + wRow0 * L.lds + kf * 16, acc, L.lds, wmma::mem_row_major);
    }
    __syncwarp();

    for (int r = 0; r < 16; r++) {
      const int br = wRow0 + r, row = row0 + br, pos = queryOffset + row;
      float s[2];
      float rowMax = -INFINITY;
      for (int c = 0; c < 2; c++) {
        const int jj = lane + 32 * c, j = j0 + jj;
        s[c] = row < queries && j <= pos && j < keys ? sS[br * L.lds + jj] * scale : -INFINITY;
        rowMax = fmaxf(rowMax, s[c]);
      }
      rowMax = warpMax(rowMax);
      const float mOld = sM[br];
      const float mNew = fmaxf(mOld, rowMax);
      const bool none = mNew == -INFINITY;  // no key of this row visible yet (or a row past the prompt)
      float sum = 0.0f;
      for (int c = 0; c < 2; c++) {
        const bf16 p = __float2bfloat16_rn(none || s[c] == -INFINITY ? 0.0f : expf(s[c] - mNew));
        sP[br * L.ldp + lane + 32 * c] = p;
        sum += __bfloat162float(p);
      }
      sum = warpSum(sum);
      const float alpha = none ? 1.0f : expf(mOld - mNew);
      __syncwarp();  // every lane has read sM[br] before lane 0 rewrites it
      if (lane == 0) {
        sM[br] = mNew;
        sL[br] = sL[br] * alpha + sum;
        sAlpha[br] = alpha;
      }
    }
    __syncwarp();

    for (int i = lane; i < 16 * valueDim; i += 32) {
      const int br = wRow0 + i / valueDim;
      sO[br * L.ldo + i % valueDim] *= sAlpha[br];
    }
    __syncwarp();
    for (int f = 0; f < valueDim / 16; f++) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::load_matrix_sync(acc, sO + wRow0 * L.ldo + f * 16, L.ldo, wmma::mem_row_major);
      for (int ks = 0; ks < TA_KEYS / 16; ks++) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> b;
        wmma::load_matrix_sync(a, sP + wRow0 * L.ldp + ks * 16, L.ldp);
        wmma::load_matrix_sync(b, sV + ks * 16 * L.ldv + f * 16, L.ldv);
        wmma::mma_sync(acc, a, b, acc);
      }
      wmma::store_matrix_sync(sO + wRow0 * L.ldo + f * 16, acc, L.ldo, wmma::mem_row_major);
    }
    __syncwarp();
  }

  __syncwarp();
  for (int i = lane; i < 16 * valueDim; i += 32) {
    const int br = wRow0 + i / valueDim, d = i % valueDim, row = row0 + br;
    if (row < queries) out[(size_t)row * oWidth + (size_t)h * valueDim + d] = sO[br * L.ldo + d] / sL[br];
  }
}

// ---------------------------------------------------------------------------------------------------------
// rmsNorm: a block per slice; the sum of squares by a fixed tree over 256 threads (strided partial sums).

constexpr int NORM_THREADS = 256;

__global__ void __launch_bounds__(NORM_THREADS) rmsNormKernel(const float* __restrict__ x, const void* __restrict__ w, int wType,
                                                              float* __restrict__ y, int width, float eps) {
  __shared__ float partial[NORM_THREADS];
  const float* xr = x + (size_t)blockIdx.x * width;
  float* yr = y + (size_t)blockIdx.x * width;
  float sum = 0.0f;
  for (int j = threadIdx.x; j < width; j += NORM_THREADS) sum = fmaf(xr[j], xr[j], sum);
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = NORM_THREADS / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  const float r = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(__fdiv_rn(partial[0], (float)width), eps)));
  for (int j = threadIdx.x; j < width; j += NORM_THREADS) yr[j] = __fmul_rn(loadWeight(w, wType, j), __fmul_rn(xr[j], r));
}

// ---------------------------------------------------------------------------------------------------------
// Elementwise and row ops: a thread per element, grid-stride.

constexpr int EW_THREADS = 256;

int elementwiseBlocks(size_t n) { return (int)std::min<size_t>(ceilDiv<size_t>(n, EW_THREADS), 65535); }

__global__ void ropeKernel(const float* __restrict__ x, float* __restrict__ y, const float* __restrict__ cosT,
                           const float* __restrict__ sinT, int rows, int numHeads, int headDim, int half) {
  const size_t total = (size_t)rows * numHeads * headDim;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
    const int d = (int)(i % headDim);
    const size_t r = i / ((size_t)numHeads * headDim);
    const size_t base = i - d;  // the head's first element
    if (d < half) {
      const float a = x[base + d], b = x[base + d + half], c = cosT[r * half + d], s = sinT[r * half + d];
      y[i] = __fsub_rn(__fmul_rn(a, c), __fmul_rn(b, s));
    } else if (d < 2 * half) {
      const int e = d - half;
      const float a = x[base + e], b = x[base + d], c = cosT[r * half + e], s = sinT[r * half + e];
      y[i] = __fadd_rn(__fmul_rn(b, c), __fmul_rn(a, s));
    } else {
      y[i] = x[i];
    }
  }
}

__global__ void addKernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ y, size_t n) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) y[i] = __fadd_rn(a[i], b[i]);
}

__global__ void scaleKernel(const float* __restrict__ x, float* __restrict__ y, size_t n, float s) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) y[i] = __fmul_rn(x[i], s);
}

__global__ void siluMulKernel(const float* __restrict__ gate, const float* __restrict__ up, float* __restrict__ y, size_t n) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
    const float g = gate[i];
    y[i] = __fmul_rn(__fdiv_rn(g, __fadd_rn(1.0f, expf(-g))), up[i]);
  }
}

__global__ void gatherKernel(const void* __restrict__ x, int xType, int cols, const int32_t* __restrict__ index, int count,
                             float* __restrict__ out) {
  const size_t total = (size_t)count * cols;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
    const size_t r = i / cols, c = i % cols;
    out[i] = loadWeight(x, xType, (size_t)index[r] * cols + c);
  }
}

/** A thread per column walks the rows in i order: repeated destinations add in slot order, as in js. */
__global__ void scatterAddKernel(float* __restrict__ dst, const float* __restrict__ src, int cols, const int32_t* __restrict__ index,
                                 int count, const float* __restrict__ scale) {
  for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += gridDim.x * blockDim.x) {
    for (int i = 0; i < count; i++) {
      const float s = src[(size_t)i * cols + c];
      float* d = dst + (size_t)index[i] * cols + c;
      *d = __fadd_rn(*d, scale ? __fmul_rn(scale[i], s) : s);
    }
  }
}

/** A thread per row: softmax (each exp of an f32 difference rounded from double, as js's Math.exp), top-k. */
__global__ void routerKernel(const float* __restrict__ logits, int rows, int experts, int topK, bool renormalize,
                             int32_t* __restrict__ ids, float* __restrict__ weights, float* __restrict__ probs) {
  const int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const float* row = logits + (size_t)r * experts;
  float* p = probs + (size_t)r * experts;
  float max = -INFINITY;
  for (int e = 0; e < experts; e++) max = fmaxf(max, row[e]);
  float sum = 0.0f;
  for (int e = 0; e < experts; e++) {
    p[e] = (float)exp((double)__fsub_rn(row[e], max));
    sum = __fadd_rn(sum, p[e]);
  }
  for (int e = 0; e < experts; e++) p[e] = __fdiv_rn(p[e], sum);
  float chosen = 0.0f;
  for (int s = 0; s < topK; s++) {
    int best = -1;
    for (int e = 0; e < experts; e++)
      if (p[e] >= 0.0f && (best < 0 || p[e] > p[best])) best = e;
    ids[(size_t)r * topK + s] = best;
    weights[(size_t)r * topK + s] = p[best];
    chosen = __fadd_rn(chosen, p[best]);
    p[best] = -1.0f;  // taken (probabilities are never negative)
  }
  if (renormalize)
    for (int s = 0; s < topK; s++) weights[(size_t)r * topK + s] = __fdiv_rn(weights[(size_t)r * topK + s], chosen);
}

__global__ void fillKernel(float* x, size_t n, uint32_t seed) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
    uint32_t s = seed ^ (uint32_t)(i * 2654435761u);
    s ^= s >> 16;
    s *= 0x7feb352du;
    s ^= s >> 15;
    x[i] = (float)s / 2147483648.0f - 1.0f;
  }
}

__global__ void toBf16Kernel(const float* x, bf16* y, size_t n) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) y[i] = __float2bfloat16_rn(x[i]);
}

template <int PARTS>
cudaError_t launchTensorCore(const bf16* xp, const bf16* w, const float* bias, float* y, int m, int n, int k, cudaStream_t stream) {
  const size_t bytes = tcSharedBytes(PARTS);
  const cudaError_t e = cudaFuncSetAttribute(tensorCoreMatmul<PARTS>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
  if (e != cudaSuccess) return e;
  const dim3 grid(ceilDiv(n, TC_BN), ceilDiv(m, TC_BM));
  tensorCoreMatmul<PARTS><<<grid, TC_THREADS, bytes, stream>>>(xp, w, bias, y, m, n, k);
  return cudaGetLastError();
}

}  // namespace

bool matmulUsesTensorCores(int wType, int k) { return wType == W_BF16 && k % 8 == 0; }

size_t matmulScratchBytes(int m, int k, int wType, int parts) {
  return matmulUsesTensorCores(wType, k) ? sizeof(bf16) * (size_t)parts * m * k : 0;
}

cudaError_t matmul(const float* x, int m, int k, const void* w, int wType, int n, const float* bias, float* y, int parts,
                   void* scratch, cudaStream_t stream) {
  if (m == 0 || n == 0) return cudaSuccess;
  if (k == 0) {  // an empty sum: y = bias (or 0)
    if (bias) {
      for (int r = 0; r < m; r++) {
        const cudaError_t e = cudaMemcpyAsync(y + (size_t)r * n, bias, sizeof(float) * n, cudaMemcpyDeviceToDevice, stream);
        if (e != cudaSuccess) return e;
      }
      return cudaSuccess;
    }
    return cudaMemsetAsync(y, 0, sizeof(float) * (size_t)m * n, stream);
  }
  if (matmulUsesTensorCores(wType, k)) {
    bf16* planes = static_cast<bf16*>(scratch);
    const size_t count = (size_t)m * k;
    splitActivations<<<elementwiseBlocks(count), EW_THREADS, 0, stream>>>(x, planes, count, parts);
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    const bf16* wb = static_cast<const bf16*>(w);
    return parts == SPLIT ? launchTensorCore<SPLIT>(planes, wb, bias, y, m, n, k, stream)
                          : launchTensorCore<ROUNDED>(planes, wb, bias, y, m, n, k, stream);
  }
  const dim3 grid(ceilDiv(n, SM_TILE), ceilDiv(m, SM_TILE));
  simtMatmul<<<grid, SM_THREADS, 0, stream>>>(x, w, wType, bias, y, m, n, k);
  return cudaGetLastError();
}

bool attentionUsesTensorCores(int headDim, int valueDim) {
  return headDim % 16 == 0 && valueDim % 16 == 0 && headDim > 0 && valueDim > 0 && headDim <= kMaxHeadDim && valueDim <= kMaxHeadDim;
}

cudaError_t attention(const float* q, const float* k, const float* v, float* out, int queries, int keys, int numHeads,
                      int numKvHeads, int headDim, int valueDim, float scale, int queryOffset, bool tensorCores, cudaStream_t stream) {
  if (queries == 0 || numHeads == 0 || valueDim == 0) return cudaSuccess;
  if (headDim > kMaxHeadDim || valueDim > kMaxHeadDim) return cudaErrorInvalidValue;
  if (tensorCores && attentionUsesTensorCores(headDim, valueDim)) {
    const size_t bytes = taLayout(headDim, valueDim).bytes;
    const cudaError_t e = cudaFuncSetAttribute(tensorCoreAttention, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
    if (e != cudaSuccess) return e;
    const dim3 grid(ceilDiv(queries, TA_ROWS), numHeads);
    tensorCoreAttention<<<grid, TA_THREADS, bytes, stream>>>(q, k, v, out, queries, keys, numHeads, numKvHeads, headDim, valueDim, scale,
                                                             queryOffset);
    return cudaGetLastError();
  }
  const size_t bytes = attentionSharedBytes(headDim, valueDim);
  const cudaError_t e = cudaFuncSetAttribute(flashAttention, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
  if (e != cudaSuccess) return e;
  const dim3 grid(ceilDiv(queries, AT_ROWS), numHeads);
  flashAttention<<<grid, AT_THREADS, bytes, stream>>>(q, k, v, out, queries, keys, numHeads, numKvHeads, headDim, valueDim, scale,
                                                       queryOffset);
  return cudaGetLastError();
}

cudaError_t rmsNorm(const float* x, const void* w, int wType, float* y, int slices, int width, float eps, cudaStream_t stream) {
  if (slices == 0 || width == 0) return cudaSuccess;
  rmsNormKernel<<<slices, NORM_THREADS, 0, stream>>>(x, w, wType, y, width, eps);
  return cudaGetLastError();
}

cudaError_t rope(const float* x, float* y, const float* cosT, const float* sinT, int rows, int numHeads, int headDim, int half,
                 cudaStream_t stream) {
  const size_t n = (size_t)rows * numHeads * headDim;
  if (n == 0) return cudaSuccess;
  ropeKernel<<<elementwiseBlocks(n), EW_THREADS, 0, stream>>>(x, y, cosT, sinT, rows, numHeads, headDim, half);
  return cudaGetLastError();
}

cudaError_t add(const float* a, const float* b, float* y, size_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  addKernel<<<elementwiseBlocks(n), EW_THREADS, 0, stream>>>(a, b, y, n);
  return cudaGetLastError();
}

cudaError_t scale(const float* x, float* y, size_t n, float s, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  scaleKernel<<<elementwiseBlocks(n), EW_THREADS, 0, stream>>>(x, y, n, s);
  return cudaGetLastError();
}

cudaError_t siluMul(const float* gate, const float* up, float* y, size_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  siluMulKernel<<<elementwiseBlocks(n), EW_THREADS, 0, stream>>>(gate, up, y, n);
  return cudaGetLastError();
}

cudaError_t gatherRows(const void* x, int xType, int cols, const int32_t* index, int count, float* out, cudaStream_t stream) {
  const size_t n = (size_t)count * cols;
  if (n == 0) return cudaSuccess;
  gatherKernel<<<elementwiseBlocks(n), EW_THREADS, 0, stream>>>(x, xType, cols, index, count, out);
  return cudaGetLastError();
}

cudaError_t scatterAddRows(float* dst, const float* src, int cols, const int32_t* index, int count, const float* scale,
                           cudaStream_t stream) {
  if (cols == 0 || count == 0) return cudaSuccess;
  scatterAddKernel<<<ceilDiv(cols, EW_THREADS), EW_THREADS, 0, stream>>>(dst, src, cols, index, count, scale);
  return cudaGetLastError();
}

cudaError_t routerTopK(const float* logits, int rows, int experts, int topK, bool renormalize, int32_t* ids, float* weights,
                       float* probs, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  routerKernel<<<ceilDiv(rows, 128), 128, 0, stream>>>(logits, rows, experts, topK, renormalize, ids, weights, probs);
  return cudaGetLastError();
}

cudaError_t fillPattern(float* x, size_t n, uint32_t seed, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  fillKernel<<<elementwiseBlocks(n), EW_THREADS, 0, stream>>>(x, n, seed);
  return cudaGetLastError();
}

cudaError_t toBf16(const float* x, uint16_t* y, size_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  toBf16Kernel<<<elementwiseBlocks(n), EW_THREADS, 0, stream>>>(x, reinterpret_cast<bf16*>(y), n);
  return cudaGetLastError();
}

}  // namespace asap_cuda
