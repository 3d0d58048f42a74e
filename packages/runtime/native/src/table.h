// The kernels one instruction set offers: each isa_*.cc fills a table, the addon picks one at run time.
#pragma once
#include <cstddef>
#include <cstdint>

enum WeightType : int { W_F32 = 0, W_BF16 = 1, W_F16 = 2 };

struct KernelTable {
  const char* isa;
  /** Activation rows per packed panel of the matmul, and output columns per tile. */
  int panelRows;
  int tileCols;
  /** Rows m of x[m,k] into panels [panel][k][panelRows], zero past row m. */
  void (*matmulPack)(const float* x, float* xp, int m, int k);
  /**
   * Columns [tileBegin·tileCols, min(n, tileEnd·tileCols)) of y[m,n] = x·wᵀ (+ bias) from packed x. `wide` holds
   * tileCols·k floats (weights widened from bf16/f16 there). Each output is one fused multiply-add per k in
   * order 0..k−1 from 0, then + bias: the same bits whatever m, the row's position or the tiling.
   */
  void (*matmulTiles)(const float* xp, const void* w, int wType, const float* bias, float* y, int m, int n, int k,
                      int tileBegin, int tileEnd, float* wide);
  /** Floats of scratch attention needs for one kv head. */
  size_t (*attentionScratch)(int queries, int keys, int numHeads, int numKvHeads, int headDim);
  /** Causal GQA attention for kv heads [kvBegin, kvEnd) (their query heads' output columns). */
  void (*attention)(const float* q, const float* k, const float* v, float* out, int queries, int keys, int numHeads,
                    int numKvHeads, int headDim, int valueDim, float scale, int queryOffset, int kvBegin, int kvEnd, float* scratch);
  void (*rmsNorm)(const float* x, const void* w, int wType, float* y, int slices, int width, float eps);
  void (*rope)(const float* x, float* y, const float* cos, const float* sin, int rows, int numHeads, int headDim, int half);
  void (*add)(const float* a, const float* b, float* y, size_t n);
  void (*scale)(const float* x, float* y, size_t n, float s);
  void (*siluMul)(const float* gate, const float* up, float* y, size_t n);
  void (*gatherRows)(const void* x, int xType, int cols, const int32_t* index, int count, float* out);
  void (*scatterAddRows)(float* dst, const float* src, int cols, const int32_t* index, int count, const float* scale);
};

const KernelTable* kernelsAvx512();
const KernelTable* kernelsAvx2();
const KernelTable* kernelsGeneric();
