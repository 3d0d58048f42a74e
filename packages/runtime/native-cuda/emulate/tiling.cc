// A CPU transcription of the indexing of three CUDA kernels (kernels.cu: tensorCoreMatmul, flashAttention and
// tensorCoreAttention),
// checked against plain loops on ragged shapes. It runs where there is no GPU and catches tiling, bounds and
// layout mistakes (tile origins, cp.async chunk mapping, fragment addressing with the padded leading
// dimension, epilogue bounds, causal tile skipping); it does not model the hardware's MMA rounding.
// Keep it in step with kernels.cu by hand. Build and run: g++ -O2 -std=c++17 tiling.cc -o /tmp/tiling && /tmp/tiling
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr int TC_BM = 128, TC_BN = 128, TC_BK = 32, TC_LDS = TC_BK + 8;
constexpr int TC_WARPS_M = 2, TC_WARPS_N = 4, TC_THREADS = 32 * TC_WARPS_M * TC_WARPS_N;
constexpr int TC_WM = TC_BM / TC_WARPS_M, TC_WN = TC_BN / TC_WARPS_N, TC_FM = TC_WM / 16, TC_FN = TC_WN / 16, TC_CHUNKS = TC_BK / 8;

float bf16(float v) {  // round to nearest even, to bf16 precision
  unsigned u;
  std::memcpy(&u, &v, 4);
  u = (u + 0x7fff + ((u >> 16) & 1)) & 0xffff0000u;
  std::memcpy(&v, &u, 4);
  return v;
}

unsigned seed = 1;
float rnd() {
  seed = seed * 1664525u + 1013904223u;
  return (float)(seed >> 8) / (1 << 24) * 2 - 1;
}

/** tensorCoreMatmul<PARTS>, one block at a time, every thread's loop run in turn. */
void emulateMatmul(const std::vector<float>& xp, const std::vector<float>& w, const float* bias, std::vector<float>& y, int m, int n, int k,
                   int parts) {
  const size_t plane = (size_t)m * k;
  std::vector<float> sA((size_t)2 * parts * TC_BM * TC_LDS), sB((size_t)2 * TC_BN * TC_LDS), sC(256 * (TC_THREADS / 32));
  for (int by = 0; by < (m + TC_BM - 1) / TC_BM; by++) {
    for (int bx = 0; bx < (n + TC_BN - 1) / TC_BN; bx++) {
      const int row0 = by * TC_BM, col0 = bx * TC_BN;
      auto load = [&](int stage, int tile) {
        const int k0 = tile * TC_BK;
        for (int tid = 0; tid < TC_THREADS; tid++) {
          for (int c = tid; c < parts * TC_BM * TC_CHUNKS; c += TC_THREADS) {
            const int p = c / (TC_BM * TC_CHUNKS), r = (c / TC_CHUNKS) % TC_BM, ch = c % TC_CHUNKS;
            const int gr = row0 + r, gk = k0 + ch * 8;
            const bool inside = gr < m && gk < k;
            float* dst = &sA[((size_t)(stage * parts + p) * TC_BM + r) * TC_LDS + ch * 8];
            for (int e = 0; e < 8; e++) dst[e] = inside ? xp[p * plane + (size_t)gr * k + gk + e] : 0.0f;
          }
          for (int c = tid; c < TC_BN * TC_CHUNKS; c += TC_THREADS) {
            const int r = c / TC_CHUNKS, ch = c % TC_CHUNKS;
            const int gn = col0 + r, gk = k0 + ch * 8;
            const bool inside = gn < n && gk < k;
            float* dst = &sB[((size_t)stage * TC_BN + r) * TC_LDS + ch * 8];
            for (int e = 0; e < 8; e++) dst[e] = inside ? w[(size_t)gn * k + gk + e] : 0.0f;
          }
        }
      };
      std::vector<double> acc((size_t)8 * TC_FM * TC_FN * 256, 0.0);  // [warp][i][j][16×16]
      const int tiles = (k + TC_BK - 1) / TC_BK;
      if (tiles > 0) load(0, 0);
      for (int t = 0; t < tiles; t++) {
        const int stage = t & 1;
        if (t + 1 < tiles) load(stage ^ 1, t + 1);
        for (int warp = 0; warp < 8; warp++) {
          const int wm = warp / TC_WARPS_N, wn = warp % TC_WARPS_N;
          for (int kk = 0; kk < TC_BK; kk += 16) {
            for (int p = 0; p < parts; p++) {
              for (int i = 0; i < TC_FM; i++) {
                const float* a = &sA[((size_t)(stage * parts + p) * TC_BM + wm * TC_WM + i * 16) * TC_LDS + kk];  // row_major, ldm TC_LDS
                for (int j = 0; j < TC_FN; j++) {
                  const float* b = &sB[((size_t)stage * TC_BN + wn * TC_WN + j * 16) * TC_LDS + kk];  // col_major, ldm TC_LDS
                  double* c = &acc[(((size_t)warp * TC_FM + i) * TC_FN + j) * 256];
                  for (int r = 0; r < 16; r++)
                    for (int col = 0; col < 16; col++)
                      for (int q = 0; q < 16; q++) c[r * 16 + col] += (double)a[r * TC_LDS + q] * b[col * TC_LDS + q];
                }
              }
            }
          }
        }
      }
      for (int warp = 0; warp < 8; warp++) {
        const int wm = warp / TC_WARPS_N, wn = warp % TC_WARPS_N;
        float* stageC = &sC[warp * 256];
        for (int i = 0; i < TC_FM; i++) {
          for (int j = 0; j < TC_FN; j++) {
            const double* c = &acc[(((size_t)warp * TC_FM + i) * TC_FN + j) * 256];
            for (int e = 0; e < 256; e++) stageC[e] = (float)c[e];
            for (int lane = 0; lane < 32; lane++) {
              for (int e = lane; e < 256; e += 32) {
                const int gr = row0 + wm * TC_WM + i * 16 + e / 16;
                const int gc = col0 + wn * TC_WN + j * 16 + e % 16;
                if (gr < m && gc < n) {
                  if (y[(size_t)gr * n + gc] != -12345.0f) {
                    std::printf("matmul: output (%d, %d) written twice\n", gr, gc);
                    std::exit(1);
                  }
                  y[(size_t)gr * n + gc] = bias ? stageC[e] + bias[gc] : stageC[e];
                }
              }
            }
          }
        }
      }
    }
  }
}

bool checkMatmul(int m, int k, int n, int parts, bool withBias) {
  std::vector<float> x((size_t)m * k), w((size_t)n * k), bias(n), xp((size_t)parts * m * k), y((size_t)m * n, -12345.0f);
  for (auto& v : x) v = rnd();
  for (auto& v : w) v = bf16(rnd());
  for (auto& v : bias) v = rnd();
  for (size_t i = 0; i < x.size(); i++) {  // splitActivations
    xp[i] = bf16(x[i]);
    if (parts == 2) xp[x.size() + i] = bf16(x[i] - xp[i]);
  }
  emulateMatmul(xp, w, withBias ? bias.data() : nullptr, y, m, n, k, parts);
  double worst = 0;
  for (int r = 0; r < m; r++) {
    for (int c = 0; c < n; c++) {
      double s = withBias ? bias[c] : 0, mag = 0;
      for (int q = 0; q < k; q++) {
        s += (double)x[(size_t)r * k + q] * w[(size_t)c * k + q];
        mag += std::fabs((double)x[(size_t)r * k + q] * w[(size_t)c * k + q]);
      }
      const double got = y[(size_t)r * n + c];
      if (got == -12345.0f) {
        std::printf("matmul (%d,%d,%d): output (%d, %d) never written\n", m, k, n, r, c);
        return false;
      }
      const double bound = (parts == 2 ? std::ldexp(1.0, -16) : std::ldexp(1.0, -8)) * mag + 1e-6 * (1 + std::fabs(s));
      worst = std::fmax(worst, std::fabs(got - s) / bound);
      if (std::fabs(got - s) > bound) {
        std::printf("matmul (%d,%d,%d) parts %d: (%d, %d) = %g, want %g\n", m, k, n, parts, r, c, got, s);
        return false;
      }
    }
  }
  std::printf("matmul (%d, %d, %d) parts %d%s: ok (worst error %.2f of the bound)\n", m, k, n, parts, withBias ? " +bias" : "", worst);
  return true;
}

constexpr int AT_ROWS = 8, AT_KEYS = 32, AT_THREADS = 32 * AT_ROWS;

/** flashAttention, block by block, warp by warp, lane by lane (the warp reductions as plain loops). */
void emulateAttention(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v, std::vector<float>& out,
                      int queries, int keys, int numHeads, int numKvHeads, int headDim, int valueDim, float scale, int queryOffset) {
  const int kStride = headDim + 1;
  std::vector<float> sK((size_t)AT_KEYS * kStride), sV((size_t)AT_KEYS * valueDim), sQ((size_t)AT_ROWS * headDim), sP(AT_ROWS * AT_KEYS);
  for (int bx = 0; bx < (queries + AT_ROWS - 1) / AT_ROWS; bx++) {
    for (int h = 0; h < numHeads; h++) {
      const int g = h / (numHeads / numKvHeads);
      const int row0 = bx * AT_ROWS;
      const int lastRow = std::min(queries, row0 + AT_ROWS) - 1;
      const int lastKey = std::min(keys - 1, queryOffset + lastRow);
      const size_t qWidth = (size_t)numHeads * headDim, kWidth = (size_t)numKvHeads * headDim;
      const size_t vWidth = (size_t)numKvHeads * valueDim, oWidth = (size_t)numHeads * valueDim;
      for (int tid = 0; tid < AT_THREADS; tid++)
        for (int i = tid; i < AT_ROWS * headDim; i += AT_THREADS) {
          const int r = row0 + i / headDim;
          sQ[i] = r < queries ? q[(size_t)r * qWidth + (size_t)h * headDim + i % headDim] : 0.0f;
        }
      std::vector<float> m(AT_ROWS, -INFINITY), l(AT_ROWS, 0.0f), acc((size_t)AT_ROWS * 32 * 8, 0.0f);
      for (int j0 = 0; j0 <= lastKey; j0 += AT_KEYS) {
        for (int tid = 0; tid < AT_THREADS; tid++) {
          for (int i = tid; i < AT_KEYS * headDim; i += AT_THREADS) {
            const int jj = i / headDim, d = i % headDim, j = j0 + jj;
            sK[jj * kStride + d] = j < keys ? k[(size_t)j * kWidth + (size_t)g * headDim + d] : 0.0f;
          }
          for (int i = tid; i < AT_KEYS * valueDim; i += AT_THREADS) {
            const int jj = i / valueDim, d = i % valueDim, j = j0 + jj;
            sV[i] = j < keys ? v[(size_t)j * vWidth + (size_t)g * valueDim + d] : 0.0f;
          }
        }
        for (int warp = 0; warp < AT_ROWS; warp++) {
          const int row = row0 + warp, pos = queryOffset + row;
          if (row >= queries || j0 > pos) continue;
          float s[32], tileMax = -INFINITY;
          for (int lane = 0; lane < 32; lane++) {
            const int j = j0 + lane;
            s[lane] = -INFINITY;
            if (j <= pos && j < keys) {
              float dot = 0;
              for (int d = 0; d < headDim; d++) dot = std::fma(sQ[(size_t)warp * headDim + d], sK[lane * kStride + d], dot);
              s[lane] = dot * scale;
            }
            tileMax = std::fmax(tileMax, s[lane]);
          }
          const float mNew = std::fmax(m[warp], tileMax);
          const float alpha = std::exp(m[warp] - mNew);
          float sum = 0;
          for (int lane = 0; lane < 32; lane++) {
            const int j = j0 + lane;
            sP[warp * AT_KEYS + lane] = (j <= pos && j < keys) ? std::exp(s[lane] - mNew) : 0.0f;
            sum += sP[warp * AT_KEYS + lane];
          }
          l[warp] = l[warp] * alpha + sum;
          for (int lane = 0; lane < 32; lane++)
            for (int i = 0; i < 8; i++) {
              const int d = lane + 32 * i;
              if (d < valueDim) {
                float t = 0;
                for (int jj = 0; jj < AT_KEYS; jj++) t = std::fma(sP[warp * AT_KEYS + jj], sV[jj * valueDim + d], t);
                float& a = acc[((size_t)warp * 32 + lane) * 8 + i];
                a = a * alpha + t;
              }
            }
          m[warp] = mNew;
        }
      }
      for (int warp = 0; warp < AT_ROWS; warp++) {
        const int row = row0 + warp;
        if (row >= queries) continue;
        for (int lane = 0; lane < 32; lane++)
          for (int i = 0; i < 8; i++) {
            const int d = lane + 32 * i;
            if (d < valueDim) out[(size_t)row * oWidth + (size_t)h * valueDim + d] = acc[((size_t)warp * 32 + lane) * 8 + i] / l[warp];
          }
      }
    }
  }
}

constexpr int TA_ROWS = 64, TA_KEYS = 64, TA_WARPS = 4;

/** tensorCoreAttention: shared memory as plain arrays (bf16 values held as rounded floats), wmma as loops. */
void emulateTensorCoreAttention(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v, std::vector<float>& out,
                                int queries, int keys, int numHeads, int numKvHeads, int headDim, int valueDim, float scale, int queryOffset) {
  const int ldq = headDim + 8, ldv = valueDim + 8, ldp = TA_KEYS + 8, lds = TA_KEYS + 4, ldo = valueDim + 4;
  std::vector<float> sQ((size_t)TA_ROWS * ldq), sK((size_t)TA_KEYS * ldq), sV((size_t)TA_KEYS * ldv), sP((size_t)TA_ROWS * ldp);
  std::vector<float> sS((size_t)TA_ROWS * lds), sO((size_t)TA_ROWS * ldo), sM(TA_ROWS), sL(TA_ROWS), sAlpha(TA_ROWS);
  const size_t qWidth = (size_t)numHeads * headDim, kWidth = (size_t)numKvHeads * headDim;
  const size_t vWidth = (size_t)numKvHeads * valueDim, oWidth = (size_t)numHeads * valueDim;
  for (int bx = 0; bx < (queries + TA_ROWS - 1) / TA_ROWS; bx++) {
    for (int h = 0; h < numHeads; h++) {
      const int g = h / (numHeads / numKvHeads), row0 = bx * TA_ROWS;
      const int lastRow = std::min(queries, row0 + TA_ROWS) - 1;
      const int lastKey = std::min(keys - 1, queryOffset + lastRow);
      for (int i = 0; i < TA_ROWS * headDim; i++) {
        const int r = i / headDim, d = i % headDim, row = row0 + r;
        sQ[r * ldq + d] = bf16(row < queries ? q[(size_t)row * qWidth + (size_t)h * headDim + d] : 0.0f);
      }
      for (int i = 0; i < TA_ROWS * valueDim; i++) sO[(i / valueDim) * ldo + i % valueDim] = 0.0f;
      for (int i = 0; i < TA_ROWS; i++) sM[i] = -INFINITY, sL[i] = 0.0f;
      for (int j0 = 0; j0 <= lastKey; j0 += TA_KEYS) {
        for (int i = 0; i < TA_KEYS * headDim; i++) {
          const int jj = i / headDim, d = i % headDim, j = j0 + jj;
          sK[jj * ldq + d] = bf16(j < keys ? k[(size_t)j * kWidth + (size_t)g * headDim + d] : 0.0f);
        }
        for (int i = 0; i < TA_KEYS * valueDim; i++) {
          const int jj = i / valueDim, d = i % valueDim, j = j0 + jj;
          sV[jj * ldv + d] = bf16(j < keys ? v[(size_t)j * vWidth + (size_t)g * valueDim + d] : 0.0f);
        }
        for (int warp = 0; warp < TA_WARPS; warp++) {
          const int wRow0 = warp * 16;
          const int warpLastRow = std::min(queries, row0 + wRow0 + 16) - 1;
          const int warpLastKey = warpLastRow < row0 + wRow0 ? -1 : std::min(keys - 1, queryOffset + warpLastRow);
          if (j0 > warpLastKey) continue;
          for (int kf = 0; kf < TA_KEYS / 16; kf++) {
            float acc[256] = {};
            for (int ks = 0; ks < headDim / 16; ks++) {
              const float* a = &sQ[wRow0 * ldq + ks * 16];       // row_major, ldq
              const float* b = &sK[kf * 16 * ldq + ks * 16];     // col_major, ldq
              for (int r = 0; r < 16; r++)
                for (int c = 0; c < 16; c++)
                  for (int t = 0; t < 16; t++) acc[r * 16 + c] += a[r * ldq + t] * b[c * ldq + t];
            }
            for (int e = 0; e < 256; e++) sS[(wRow0 + e / 16) * lds + kf * 16 + e % 16] = acc[e];
          }
          for (int r = 0; r < 16; r++) {
            const int br = wRow0 + r, row = row0 + br, pos = queryOffset + row;
            float s[32][2], rowMax = -INFINITY;
            for (int lane = 0; lane < 32; lane++)
              for (int c = 0; c < 2; c++) {
                const int jj = lane + 32 * c, j = j0 + jj;
                s[lane][c] = row < queries && j <= pos && j < keys ? sS[br * lds + jj] * scale : -INFINITY;
                rowMax = std::fmax(rowMax, s[lane][c]);
              }
            const float mOld = sM[br], mNew = std::fmax(mOld, rowMax);
            const bool none = mNew == -INFINITY;
            float sum = 0;
            for (int lane = 0; lane < 32; lane++)
              for (int c = 0; c < 2; c++) {
                const float p = bf16(none || s[lane][c] == -INFINITY ? 0.0f : std::exp(s[lane][c] - mNew));
                sP[br * ldp + lane + 32 * c] = p;
                sum += p;
              }
            const float alpha = none ? 1.0f : std::exp(mOld - mNew);
            sM[br] = mNew;
            sL[br] = sL[br] * alpha + sum;
            sAlpha[br] = alpha;
          }
          for (int i = 0; i < 16 * valueDim; i++) {
            const int br = wRow0 + i / valueDim;
            sO[br * ldo + i % valueDim] *= sAlpha[br];
          }
          for (int f = 0; f < valueDim / 16; f++) {
            float* o = &sO[wRow0 * ldo + f * 16];  // accumulator, row_major, ldo
            for (int ks = 0; ks < TA_KEYS / 16; ks++) {
              const float* a = &sP[wRow0 * ldp + ks * 16];     // row_major, ldp
              const float* b = &sV[ks * 16 * ldv + f * 16];    // row_major, ldv
              for (int r = 0; r < 16; r++)
                for (int c = 0; c < 16; c++)
                  for (int t = 0; t < 16; t++) o[r * ldo + c] += a[r * ldp + t] * b[t * ldv + c];
            }
          }
        }
      }
      for (int warp = 0; warp < TA_WARPS; warp++)
        for (int i = 0; i < 16 * valueDim; i++) {
          const int br = warp * 16 + i / valueDim, d = i % valueDim, row = row0 + br;
          if (row < queries) out[(size_t)row * oWidth + (size_t)h * valueDim + d] = sO[br * ldo + d] / sL[br];
        }
    }
  }
}

bool checkAttention(int heads, int kvHeads, int dim, int vdim, int tq, int tk, int offset, bool tensorCores = false) {
  std::vector<float> q((size_t)tq * heads * dim), k((size_t)tk * kvHeads * dim), v((size_t)tk * kvHeads * vdim), out((size_t)tq * heads * vdim, NAN);
  for (auto& x : q) x = 2 * rnd();
  for (auto& x : k) x = 2 * rnd();
  for (auto& x : v) x = rnd();
  const float scale = 1.0f / std::sqrt((float)dim);
  if (tensorCores) emulateTensorCoreAttention(q, k, v, out, tq, tk, heads, kvHeads, dim, vdim, scale, offset);
  else emulateAttention(q, k, v, out, tq, tk, heads, kvHeads, dim, vdim, scale, offset);
  // The GPU tests' bound for bf16 inputs (kernels-cuda.test.ts); f32 to within 1e-5.
  const double bound = tensorCores ? std::ldexp(1.0, -5) : 1e-5;
  double worst = 0;
  for (int r = 0; r < tq; r++) {
    for (int h = 0; h < heads; h++) {
      const int g = h / (heads / kvHeads), pos = offset + r;
      std::vector<double> p(pos + 1);
      double max = -INFINITY, sum = 0;
      for (int j = 0; j <= pos; j++) {
        double s = 0;
        for (int d = 0; d < dim; d++) s += (double)q[((size_t)r * heads + h) * dim + d] * k[((size_t)j * kvHeads + g) * dim + d];
        p[j] = s * scale;
        max = std::fmax(max, p[j]);
      }
      for (int j = 0; j <= pos; j++) sum += (p[j] = std::exp(p[j] - max));
      for (int d = 0; d < vdim; d++) {
        double o = 0;
        for (int j = 0; j <= pos; j++) o += p[j] * v[((size_t)j * kvHeads + g) * vdim + d];
        o /= sum;
        const double got = out[((size_t)r * heads + h) * vdim + d];
        worst = std::fmax(worst, std::fabs(got - o));
        if (!(std::fabs(got - o) <= bound)) {
          std::printf("attention h%d/%d d%d/%d tq%d tk%d off%d: row %d head %d dim %d = %g, want %g\n", heads, kvHeads, dim, vdim, tq, tk,
                      offset, r, h, d, got, o);
          return false;
        }
      }
    }
  }
  std::printf("attention%s %d/%d heads, dims %d/%d, %d queries of %d keys from %d: ok (max error %.2e, bound %.2e)\n",
              tensorCores ? " (tensor cores)" : "", heads, kvHeads, dim, vdim, tq, tk, offset, worst, bound);
  return true;
}

}  // namespace

int main() {
  bool ok = true;
  const int shapes[][3] = {{1, 8, 1}, {13, 40, 19}, {129, 72, 130}, {200, 264, 257}, {256, 512, 384}, {3, 16, 300}, {130, 8, 5}};
  for (const auto& s : shapes)
    for (int parts = 1; parts <= 2; parts++) ok = checkMatmul(s[0], s[1], s[2], parts, parts == 2) && ok;
  ok = checkAttention(1, 1, 1, 1, 1, 1, 0) && ok;
  ok = checkAttention(3, 1, 5, 5, 9, 9, 0) && ok;
  ok = checkAttention(4, 2, 12, 12, 70, 70, 0) && ok;
  ok = checkAttention(2, 2, 36, 36, 13, 150, 100) && ok;
  ok = checkAttention(2, 1, 19, 19, 6, 130, 124) && ok;
  ok = checkAttention(4, 1, 192, 128, 33, 33, 0) && ok;
  ok = checkAttention(2, 2, 256, 256, 9, 70, 61) && ok;
  ok = checkAttention(2, 1, 64, 64, 300, 300, 0) && ok;
  ok = checkAttention(4, 2, 16, 16, 70, 70, 0, true) && ok;
  ok = checkAttention(2, 2, 64, 64, 13, 150, 137, true) && ok;
  ok = checkAttention(8, 2, 128, 128, 129, 129, 0, true) && ok;
  ok = checkAttention(4, 1, 192, 128, 33, 100, 67, true) && ok;
  ok = checkAttention(2, 1, 256, 256, 65, 65, 0, true) && ok;
  std::printf(ok ? "all ok\n" : "FAILED\n");
  return ok ? 0 : 1;
}
