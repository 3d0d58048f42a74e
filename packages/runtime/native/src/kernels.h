// The kernels, written once against the vector traits V (vec.h) and compiled once per instruction set
// inside that set's namespace. Batch invariance: every value an output row gets is computed from that
// row's own inputs by the same sequence of operations, whatever other rows share the call or where the
// row sits (lanes hold rows or columns, never a reduction that mixes rows).
#pragma once
#include "table.h"
#include "vec.h"

using T = V::T;
static constexpr int L = V::L;

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

/**
 * e^x per lane, Cephes-style (ln 2 split in two, degree-6 polynomial, fused multiply-adds), within about
 * 2 ulp. Lanes below ln(FLT_MIN) (−∞ included) give exactly 0; e^0 is exactly 1. The value depends on
 * nothing but the lane's own input.
 */
static inline T expv(T x) {
  const T v = V::min(V::max(x, V::set1(-87.33654f)), V::set1(88.37626f));
  const T n = V::round(V::mul(v, V::set1(1.44269504088896341f)));
  T r = V::fmadd(n, V::set1(-0.693359375f), v);
  r = V::fmadd(n, V::set1(2.12194440e-4f), r);
  T p = V::set1(1.9875691500e-4f);
  p = V::fmadd(p, r, V::set1(1.3981999507e-3f));
  p = V::fmadd(p, r, V::set1(8.3334519073e-3f));
  p = V::fmadd(p, r, V::set1(4.1665795894e-2f));
  p = V::fmadd(p, r, V::set1(1.6666665459e-1f));
  p = V::fmadd(p, r, V::set1(5.0000001201e-1f));
  const T y = V::add(V::fmadd(p, V::mul(r, r), r), V::set1(1.0f));
  return V::zeroBelow(V::ldexp(y, n), x, -87.33654f);
}

// ---------------------------------------------------------------------------------------------- matmul
// Lanes hold activation rows: x is packed into panels [k][PR] (PR = MV·L rows), a tile is PR rows × NR
// weight rows with one broadcast per weight element and MV·NR accumulators, each the running sum of one
// output over k = 0..K−1 in order. Weights are read in place (f32) or widened once per tile (bf16/f16)
// into `wide` and reused by every panel.

#if defined(ISA_AVX512)
static constexpr int MV = 4;  // 64 rows × 6 columns: 24 accumulators, 4 loads + 6 broadcasts per 24 FMAs
static constexpr int NR = 6;
#elif defined(ISA_AVX2)
static constexpr int MV = 2;
static constexpr int NR = 6;
#else
static constexpr int MV = 2;
static constexpr int NR = 4;
#endif
static constexpr int PR = MV * L;

static void matmulPack(const float* x, float* xp, int m, int k) {
  const int panels = (m + PR - 1) / PR;
  for (int p = 0; p < panels; p++) {
    float* base = xp + (size_t)p * k * PR;
    const int rows = imin(PR, m - p * PR);
    const float* src = x + (size_t)p * PR * k;
    // Blocks of 16 k: a block reads one line per row and writes lines that stay in L1 until filled.
    for (int t0 = 0; t0 < k; t0 += 16) {
      const int t1 = imin(k, t0 + 16);
      for (int r = 0; r < rows; r++) {
        const float* row = src + (size_t)r * k;
        for (int t = t0; t < t1; t++) base[(size_t)t * PR + r] = row[t];
      }
      for (int r = rows; r < PR; r++)
        for (int t = t0; t < t1; t++) base[(size_t)t * PR + r] = 0.0f;
    }
  }
}

/** Rows [0, rows) of one panel (mv vectors of L) × columns [0, nr) of a tile. */
template <int mv, int nr>
static inline void mmTile(const float* xp, const float* w, size_t ldw, int k, float* y, size_t ldy, int rows, const float* bias,
                          const float* next) {
  T acc[mv][nr];
  for (int a = 0; a < mv; a++)
    for (int j = 0; j < nr; j++) acc[a][j] = V::zero();
  const float* wr[nr];
  for (int j = 0; j < nr; j++) wr[j] = w + (size_t)j * ldw;
  for (int t = 0; t < k; t++) {
    // The next tile's weight rows, a line per row every 16 k: in cache by the time that tile starts.
    if (next && (t & 15) == 0)
      for (int j = 0; j < NR; j++) __builtin_prefetch(next + (size_t)j * ldw + t);
    T xv[mv];
    for (int a = 0; a < mv; a++) xv[a] = V::load(xp + (size_t)t * PR + a * L);
    for (int j = 0; j < nr; j++) {
      const T b = V::set1(wr[j][t]);
      for (int a = 0; a < mv; a++) acc[a][j] = V::fmadd(xv[a], b, acc[a][j]);
    }
  }
#if defined(ISA_AVX512)
  // Lanes hold rows, y wants rows contiguous: transpose each 16-row group in registers, a masked store per row.
  for (int a = 0; a < mv && a * L < rows; a++) {
    T t[16];
    for (int j = nr; j < 16; j++) t[j] = V::zero();
    for (int j = 0; j < nr; j++) t[j] = bias ? V::add(acc[a][j], V::set1(bias[j])) : acc[a][j];
    V::transpose16(t);
    const int group = imin(L, rows - a * L);
    for (int i = 0; i < group; i++) V::storeN(y + (size_t)(a * L + i) * ldy, t[i], nr);
  }
#else
  alignas(64) float tmp[mv * L];
  for (int j = 0; j < nr; j++) {
    for (int a = 0; a < mv; a++) {
      T r = acc[a][j];
      if (bias) r = V::add(r, V::set1(bias[j]));
      V::store(tmp + a * L, r);
    }
    float* yj = y + j;
    for (int r = 0; r < rows; r++) yj[(size_t)r * ldy] = tmp[r];
  }
#endif
}

template <int mv, int nr>
static void mmPanelTile(const float* xp, const float* w, size_t ldw, int k, float* y, size_t ldy, int rows, const float* bias, int cols,
                        const float* next) {
  if (cols == nr) {
    mmTile<mv, nr>(xp, w, ldw, k, y, ldy, rows, bias, next);
  } else if constexpr (nr > 1) {
    mmPanelTile<mv, nr - 1>(xp, w, ldw, k, y, ldy, rows, bias, cols, next);
  }
}

static void widenRows(const void* w, int wType, int k, int row0, int rows, float* wide) {
  for (int j = 0; j < rows; j++) {
    const uint16_t* src = (const uint16_t*)w + (size_t)(row0 + j) * k;
    float* dst = wide + (size_t)j * k;
    int t = 0;
    if (wType == W_BF16) {
      for (; t + L <= k; t += L) V::store(dst + t, V::widenBf16(src + t));
      if (t < k) V::storeN(dst + t, V::widenBf16N(src + t, k - t), k - t);
    } else {
      for (; t + L <= k; t += L) V::store(dst + t, V::widenF16(src + t));
      if (t < k) V::storeN(dst + t, V::widenF16N(src + t, k - t), k - t);
    }
  }
}

static void matmulTiles(const float* xp, const void* w, int wType, const float* bias, float* y, int m, int n, int k,
                        int tileBegin, int tileEnd, float* wide) {
  const int panels = (m + PR - 1) / PR;
  for (int tile = tileBegin; tile < tileEnd; tile++) {
    const int c0 = tile * NR;
    const int cols = imin(NR, n - c0);
    if (cols <= 0) break;
    const float* wt;
    if (wType == W_F32) {
      wt = (const float*)w + (size_t)c0 * k;
    } else {
      widenRows(w, wType, k, c0, cols, wide);
      wt = wide;
    }
    const float* bt = bias ? bias + c0 : nullptr;
    // f32 weights are read in place: the first panel prefetches the next tile's full rows.
    const float* next = wType == W_F32 && tile + 1 < tileEnd && c0 + 2 * NR <= n ? wt + (size_t)NR * k : nullptr;
    for (int p = 0; p < panels; p++) {
      const int rows = imin(PR, m - p * PR);
      const float* panel = xp + (size_t)p * k * PR;
      float* yt = y + (size_t)p * PR * n + c0;
      const float* pf = p == 0 ? next : nullptr;
      // As many vectors as the panel's rows need (the last panel may be short).
      switch ((rows + L - 1) / L) {
        case 1: mmPanelTile<1, NR>(panel, wt, k, k, yt, n, rows, bt, cols, pf); break;
        case 2: mmPanelTile<MV < 2 ? MV : 2, NR>(panel, wt, k, k, yt, n, rows, bt, cols, pf); break;
        case 3: mmPanelTile<MV < 3 ? MV : 3, NR>(panel, wt, k, k, yt, n, rows, bt, cols, pf); break;
        default: mmPanelTile<MV, NR>(panel, wt, k, k, yt, n, rows, bt, cols, pf); break;
      }
    }
  }
}

// ------------------------------------------------------------------------------------------- attention
// Flash-style causal GQA. Keys in blocks of BK = 4L at absolute positions 0, BK, 2·BK…; a (query row, head)
// pair folds in the blocks up to its own position in order, keeping a running max m, sum l and accumulator
// (in its output row). In a block, scores are one fused multiply-add per dim (lanes hold keys), keys past
// the pair's position are −∞ (weight exactly 0), and the values are one fused multiply-add per key (lanes
// hold dims). A pair's arithmetic never depends on the pairs that share its group, so results are
// batch-invariant; memory is the keys of one kv head, packed, plus a few floats per pair.

static constexpr int KV = 4;  // key vectors per block
static constexpr int BK = KV * L;
#if defined(ISA_AVX512)
static constexpr int RP = 6;  // pairs per group: 4·6 score accumulators
#elif defined(ISA_AVX2)
static constexpr int RP = 3;
#else
static constexpr int RP = 4;
#endif
static constexpr int QB = 24;  // query rows per sweep over the key blocks (a multiple of RP: no short groups)

struct Pair {
  const float* q;
  float* o;
  int pos;
};

static size_t attentionScratch(int queries, int keys, int numHeads, int numKvHeads, int headDim) {
  const int group = numHeads / numKvHeads;
  const size_t blocks = (size_t)(keys + BK - 1) / BK;
  return blocks * BK * headDim + (size_t)QB * group * 4 + (size_t)RP * BK + 64;
}

/** Scores of pairs (≤ RP) against one packed key block, softmax-folded: e written to pe[r][BK], c per pair. */
template <int rp>
static inline void blockScores(const Pair* pairs, const float* kt, int headDim, float scale, int j0, float* m, float* l, float* c, float* pe) {
  T acc[rp][KV];
  for (int r = 0; r < rp; r++)
    for (int a = 0; a < KV; a++) acc[r][a] = V::zero();
  for (int d = 0; d < headDim; d++) {
    T kv[KV];
    for (int a = 0; a < KV; a++) kv[a] = V::load(kt + (size_t)d * BK + a * L);
    for (int r = 0; r < rp; r++) {
      const T qd = V::set1(pairs[r].q[d]);
      for (int a = 0; a < KV; a++) acc[r][a] = V::fmadd(qd, kv[a], acc[r][a]);
    }
  }
  const T sv = V::set1(scale);
  alignas(64) float shift[rp + L];  // old max − new max per pair: one exp for all of them
  float sums[rp];
  for (int r = 0; r < rp; r++) {
    const int count = pairs[r].pos - j0 + 1;  // keys of this block the pair sees
    T s[KV];
    T mx = V::set1(-__builtin_inff());
    for (int a = 0; a < KV; a++) {
      s[a] = V::keepFirst(V::mul(acc[r][a], sv), count - a * L, -__builtin_inff());
      mx = V::max(mx, s[a]);
    }
    const float oldMax = m[r];
    const float blockMax = V::hmax(mx);
    const float newMax = oldMax > blockMax ? oldMax : blockMax;
    const T nm = V::set1(newMax);
    T e[KV];
    for (int a = 0; a < KV; a++) {
      e[a] = expv(V::sub(s[a], nm));
      V::store(pe + (size_t)r * BK + a * L, e[a]);
    }
    sums[r] = V::sum(V::add(V::add(e[0], e[1]), V::add(e[2], e[3])));
    shift[r] = oldMax - newMax;
    m[r] = newMax;
  }
  for (int r = 0; r < rp; r += L) V::store(shift + r, expv(V::loadN(shift + r, imin(L, rp - r))));
  for (int r = 0; r < rp; r++) {
    c[r] = shift[r];
    l[r] = l[r] * shift[r] + sums[r];
  }
}

/**
 * o_r = o_r·c_r + Σ_{j<count} e_r[j]·v_j for pairs (≤ RP), dims [d0, d0 + nv·L); with `partial` the last
 * vector holds only `tail` dims (masked loads and stores).
 */
template <int rp, int nv, bool partial>
static inline void blockValues(const Pair* pairs, const float* vb, size_t vStride, int count, const float* c, const float* pe, int d0, int tail) {
  T acc[rp][nv];
  for (int r = 0; r < rp; r++) {
    const T cv = V::set1(c[r]);
    const float* o = pairs[r].o + d0;
    for (int a = 0; a < nv; a++) acc[r][a] = V::mul(partial && a == nv - 1 ? V::loadN(o + a * L, tail) : V::load(o + a * L), cv);
  }
  for (int j = 0; j < count; j++) {
    const float* vj = vb + (size_t)j * vStride + d0;
    T vv[nv];
    for (int a = 0; a < nv; a++) vv[a] = partial && a == nv - 1 ? V::loadN(vj + a * L, tail) : V::load(vj + a * L);
    for (int r = 0; r < rp; r++) {
      const T p = V::set1(pe[(size_t)r * BK + j]);
      for (int a = 0; a < nv; a++) acc[r][a] = V::fmadd(p, vv[a], acc[r][a]);
    }
  }
  for (int r = 0; r < rp; r++) {
    float* o = pairs[r].o + d0;
    for (int a = 0; a < nv; a++) {
      if (partial && a == nv - 1) V::storeN(o + a * L, acc[r][a], tail);
      else V::store(o + a * L, acc[r][a]);
    }
  }
}

template <int rp, int nv>
static inline void blockValuesAny(const Pair* pairs, const float* vb, size_t vStride, int count, const float* c, const float* pe, int d0, int tail) {
  if (tail == L) blockValues<rp, nv, false>(pairs, vb, vStride, count, c, pe, d0, tail);
  else blockValues<rp, nv, true>(pairs, vb, vStride, count, c, pe, d0, tail);
}

template <int rp>
static void blockGroup(const Pair* pairs, const float* kt, const float* vb, size_t vStride, int headDim, int valueDim, float scale,
                       int j0, int inBlock, float* m, float* l, float* c, float* pe) {
  blockScores<rp>(pairs, kt, headDim, scale, j0, m, l, c, pe);
  int most = 0;
  for (int r = 0; r < rp; r++) most = imax(most, pairs[r].pos - j0 + 1);
  const int count = imin(imin(most, inBlock), BK);
  // Value dims in chunks of up to KV vectors; the last vector may be partial.
  for (int d0 = 0; d0 < valueDim; d0 += KV * L) {
    const int left = valueDim - d0;
    const int nv = imin(KV, (left + L - 1) / L);
    const int tail = left - (nv - 1) * L;
    const int t = tail > L ? L : tail;
    switch (nv) {
      case 1: blockValuesAny<rp, 1>(pairs, vb, vStride, count, c, pe, d0, t); break;
      case 2: blockValuesAny<rp, 2>(pairs, vb, vStride, count, c, pe, d0, t); break;
      case 3: blockValuesAny<rp, 3>(pairs, vb, vStride, count, c, pe, d0, t); break;
      default: blockValuesAny<rp, 4>(pairs, vb, vStride, count, c, pe, d0, t); break;
    }
  }
}

template <int rp>
static void blockGroupN(int n, const Pair* pairs, const float* kt, const float* vb, size_t vStride, int headDim, int valueDim,
                        float scale, int j0, int inBlock, float* m, float* l, float* c, float* pe) {
  if (n == rp) blockGroup<rp>(pairs, kt, vb, vStride, headDim, valueDim, scale, j0, inBlock, m, l, c, pe);
  else if constexpr (rp > 1) blockGroupN<rp - 1>(n, pairs, kt, vb, vStride, headDim, valueDim, scale, j0, inBlock, m, l, c, pe);
}

static void attention(const float* q, const float* k, const float* v, float* out, int queries, int keys, int numHeads,
                      int numKvHeads, int headDim, int valueDim, float scale, int queryOffset, int kvBegin, int kvEnd, float* scratch) {
  const int group = numHeads / numKvHeads;
  const size_t qWidth = (size_t)numHeads * headDim;
  const size_t kvWidth = (size_t)numKvHeads * headDim;
  // Values and outputs are valueDim per head (multi-head latent attention has valueDim ≠ headDim).
  const size_t oWidth = (size_t)numHeads * valueDim;
  const size_t vWidth = (size_t)numKvHeads * valueDim;
  const int lastKey = queryOffset + queries - 1;
  const int blocks = lastKey / BK + 1;
  float* kt = scratch;
  float* ml = kt + (size_t)blocks * BK * headDim;  // m, l, c per pair of a sweep
  float* pe = ml + (size_t)QB * group * 3;
  Pair pairs[RP];
  for (int g = kvBegin; g < kvEnd; g++) {
    // Keys of kv head g, packed per block as [d][BK], zero past the last key.
    for (int b = 0; b < blocks; b++) {
      float* dst = kt + (size_t)b * BK * headDim;
      for (int jj = 0; jj < BK; jj++) {
        const int j = b * BK + jj;
        if (j < keys) {
          const float* src = k + (size_t)j * kvWidth + (size_t)g * headDim;
          for (int d = 0; d < headDim; d++) dst[(size_t)d * BK + jj] = src[d];
        } else {
          for (int d = 0; d < headDim; d++) dst[(size_t)d * BK + jj] = 0.0f;
        }
      }
    }
    const float* vg = v + (size_t)g * valueDim;
    for (int i0 = 0; i0 < queries; i0 += QB) {
      const int rows = imin(QB, queries - i0);
      const int count = rows * group;  // pairs, in (row, head) order
      float* m = ml;
      float* l = ml + count;
      float* c = ml + 2 * count;
      for (int p = 0; p < count; p++) {
        m[p] = -__builtin_inff();
        l[p] = 0.0f;
        const int i = i0 + p / group;
        const int h = g * group + p % group;
        float* o = out + (size_t)i * oWidth + (size_t)h * valueDim;
        for (int d = 0; d < valueDim; d++) o[d] = 0.0f;
      }
      const int sweepLast = queryOffset + i0 + rows - 1;
      for (int b = 0; b * BK <= sweepLast; b++) {
        const int j0 = b * BK;
        const int inBlock = imin(BK, keys - j0);
        const float* ktb = kt + (size_t)b * BK * headDim;
        const float* vb = vg + (size_t)j0 * vWidth;
        // Pairs whose row sits before this block see none of it: start at the first row that does.
        const int firstRow = imax(0, j0 - queryOffset - i0);
        for (int p = firstRow * group; p < count; p += RP) {
          const int n = imin(RP, count - p);
          for (int r = 0; r < n; r++) {
            const int i = i0 + (p + r) / group;
            const int h = g * group + (p + r) % group;
            pairs[r] = Pair{q + (size_t)i * qWidth + (size_t)h * headDim, out + (size_t)i * oWidth + (size_t)h * valueDim, queryOffset + i};
          }
          blockGroupN<RP>(n, pairs, ktb, vb, vWidth, headDim, valueDim, scale, j0, inBlock, m + p, l + p, c + p, pe);
        }
      }
      for (int p = 0; p < count; p++) {
        const int i = i0 + p / group;
        const int h = g * group + p % group;
        float* o = out + (size_t)i * oWidth + (size_t)h * valueDim;
        const T lv = V::set1(l[p]);
        int d = 0;
        for (; d + L <= valueDim; d += L) V::store(o + d, V::div(V::load(o + d), lv));
        if (d < valueDim) V::storeN(o + d, V::div(V::loadN(o + d, valueDim - d), lv), valueDim - d);
      }
    }
  }
}

// ------------------------------------------------------------------------------------ row-wise and elementwise
// rmsNorm, rope, add, scale and scatterAddRows use separately rounded mul/add in the js backend's order
// (the build turns off contraction into fused multiply-adds), so they give the js backend's bits.

static inline T loadWeight(const void* w, int wType, int j) {
  if (wType == W_F32) return V::load((const float*)w + j);
  if (wType == W_BF16) return V::widenBf16((const uint16_t*)w + j);
  return V::widenF16((const uint16_t*)w + j);
}

static inline T loadWeightN(const void* w, int wType, int j, int n) {
  if (wType == W_F32) return V::loadN((const float*)w + j, n);
  if (wType == W_BF16) return V::widenBf16N((const uint16_t*)w + j, n);
  return V::widenF16N((const uint16_t*)w + j, n);
}

static void rmsNorm(const float* x, const void* w, int wType, float* y, int slices, int width, float eps) {
  constexpr int G = 8;  // slices summed side by side: independent chains, each in index order
  const float inv = (float)width;
  for (int s0 = 0; s0 < slices; s0 += G) {
    const int g = imin(G, slices - s0);
    float sum[G] = {0, 0, 0, 0, 0, 0, 0, 0};
    const float* xs = x + (size_t)s0 * width;
    for (int j = 0; j < width; j++)
      for (int s = 0; s < g; s++) {
        const float v = xs[(size_t)s * width + j];
        sum[s] = sum[s] + v * v;
      }
    for (int s = 0; s < g; s++) {
      const float r = 1.0f / __builtin_sqrtf(sum[s] / inv + eps);
      const float* xr = xs + (size_t)s * width;
      float* yr = y + (size_t)(s0 + s) * width;
      const T rv = V::set1(r);
      int j = 0;
      for (; j + L <= width; j += L) V::store(yr + j, V::mul(loadWeight(w, wType, j), V::mul(V::load(xr + j), rv)));
      if (j < width) {
        const int n = width - j;
        V::storeN(yr + j, V::mul(loadWeightN(w, wType, j, n), V::mul(V::loadN(xr + j, n), rv)), n);
      }
    }
  }
}

static void rope(const float* x, float* y, const float* cosT, const float* sinT, int rows, int numHeads, int headDim, int half) {
  for (int r = 0; r < rows; r++) {
    const float* cr = cosT + (size_t)r * half;
    const float* sr = sinT + (size_t)r * half;
    for (int h = 0; h < numHeads; h++) {
      const size_t o = ((size_t)r * numHeads + h) * headDim;
      const float* x1 = x + o;
      const float* x2 = x1 + half;
      float* y1 = y + o;
      float* y2 = y1 + half;
      int i = 0;
      for (; i + L <= half; i += L) {
        const T a = V::load(x1 + i), b = V::load(x2 + i), c = V::load(cr + i), s = V::load(sr + i);
        V::store(y1 + i, V::sub(V::mul(a, c), V::mul(b, s)));
        V::store(y2 + i, V::add(V::mul(b, c), V::mul(a, s)));
      }
      if (i < half) {
        const int n = half - i;
        const T a = V::loadN(x1 + i, n), b = V::loadN(x2 + i, n), c = V::loadN(cr + i, n), s = V::loadN(sr + i, n);
        V::storeN(y1 + i, V::sub(V::mul(a, c), V::mul(b, s)), n);
        V::storeN(y2 + i, V::add(V::mul(b, c), V::mul(a, s)), n);
      }
      if (y != x)
        for (int d = 2 * half; d < headDim; d++) y[o + d] = x[o + d];
    }
  }
}

template <class F>
static inline void elementwise(size_t n, F f) {
  size_t i = 0;
  for (; i + L <= n; i += L) f(i, L);
  if (i < n) f(i, (int)(n - i));
}

static void add(const float* a, const float* b, float* y, size_t n) {
  elementwise(n, [&](size_t i, int w) {
    if (w == L) V::store(y + i, V::add(V::load(a + i), V::load(b + i)));
    else V::storeN(y + i, V::add(V::loadN(a + i, w), V::loadN(b + i, w)), w);
  });
}

static void scale(const float* x, float* y, size_t n, float s) {
  const T k = V::set1(s);
  elementwise(n, [&](size_t i, int w) {
    if (w == L) V::store(y + i, V::mul(V::load(x + i), k));
    else V::storeN(y + i, V::mul(V::loadN(x + i, w), k), w);
  });
}

static inline T silu(T g) { return V::div(g, V::add(V::set1(1.0f), expv(V::sub(V::zero(), g)))); }

static void siluMul(const float* gate, const float* up, float* y, size_t n) {
  elementwise(n, [&](size_t i, int w) {
    if (w == L) V::store(y + i, V::mul(silu(V::load(gate + i)), V::load(up + i)));
    else V::storeN(y + i, V::mul(silu(V::loadN(gate + i, w)), V::loadN(up + i, w)), w);
  });
}

static void gatherRows(const void* x, int xType, int cols, const int32_t* index, int count, float* out) {
  for (int i = 0; i < count; i++) {
    float* dst = out + (size_t)i * cols;
    const size_t from = (size_t)index[i] * cols;
    if (xType == W_F32) {
      __builtin_memcpy(dst, (const float*)x + from, (size_t)cols * 4);
      continue;
    }
    const void* row = (const uint16_t*)x + from;
    int j = 0;
    for (; j + L <= cols; j += L) V::store(dst + j, loadWeight(row, xType, j));
    if (j < cols) V::storeN(dst + j, loadWeightN(row, xType, j, cols - j), cols - j);
  }
}

static void scatterAddRows(float* dst, const float* src, int cols, const int32_t* index, int count, const float* scale) {
  for (int i = 0; i < count; i++) {
    float* d = dst + (size_t)index[i] * cols;
    const float* s = src + (size_t)i * cols;
    const bool scaled = scale != nullptr;
    const T k = V::set1(scaled ? scale[i] : 1.0f);
    int j = 0;
    for (; j + L <= cols; j += L) {
      const T v = V::load(s + j);
      V::store(d + j, V::add(V::load(d + j), scaled ? V::mul(k, v) : v));
    }
    if (j < cols) {
      const int n = cols - j;
      const T v = V::loadN(s + j, n);
      V::storeN(d + j, V::add(V::loadN(d + j, n), scaled ? V::mul(k, v) : v), n);
    }
  }
}

static const KernelTable table = {
    ISA_NAME, PR, NR, matmulPack, matmulTiles, attentionScratch, attention, rmsNorm, rope, add, scale, siluMul, gatherRows, scatterAddRows,
};
