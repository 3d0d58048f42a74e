// Vector traits, one per instruction set: the kernels in kernels.h are written once against them. Each
// isa_*.cc defines exactly one ISA_* macro, includes the system headers, then this file (through
// kernels.h) inside its own namespace, compiled with that instruction set's flags: every name here is
// distinct per set, so the linker never merges code of one set into another.
#include <cstddef>
#include <cstdint>

#if defined(ISA_AVX512)
#include <immintrin.h>

struct V {
  using T = __m512;
  static constexpr int L = 16;
  static inline T zero() { return _mm512_setzero_ps(); }
  static inline T set1(float a) { return _mm512_set1_ps(a); }
  static inline T load(const float* p) { return _mm512_loadu_ps(p); }
  static inline void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static inline __mmask16 first(int n) { return (__mmask16)((1u << n) - 1u); }
  static inline T loadN(const float* p, int n) { return _mm512_maskz_loadu_ps(first(n), p); }
  static inline void storeN(float* p, T v, int n) { _mm512_mask_storeu_ps(p, first(n), v); }
  static inline T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static inline T add(T a, T b) { return _mm512_add_ps(a, b); }
  static inline T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static inline T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static inline T div(T a, T b) { return _mm512_div_ps(a, b); }
  static inline T max(T a, T b) { return _mm512_max_ps(a, b); }
  static inline T min(T a, T b) { return _mm512_min_ps(a, b); }
  /** Lanes at index ≥ count replaced by `fill`. */
  static inline T keepFirst(T v, int count, float fill) {
    if (count >= L) return v;
    return _mm512_mask_mov_ps(_mm512_set1_ps(fill), first(count < 0 ? 0 : count), v);
  }
  static inline T widenBf16(const uint16_t* p) {
    __m256i h = _mm256_loadu_si256((const __m256i*)p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static inline T widenBf16N(const uint16_t* p, int n) {
    __m256i h = _mm256_maskz_loadu_epi16(first(n), p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static inline T widenF16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)p)); }
  static inline T widenF16N(const uint16_t* p, int n) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(first(n), p)); }
  /** Horizontal sum in a fixed order (halves folded: 16 → 8 → 4 → 2 → 1). */
  static inline float sum(T v) {
    __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));
    b = _mm_add_ss(b, _mm_movehdup_ps(b));
    return _mm_cvtss_f32(b);
  }
  static inline float hmax(T v) { return _mm512_reduce_max_ps(v); }
  /** r[i] = row i of a 16×16 matrix → r[i] = its column i. */
  static inline void transpose16(T r[16]) {
    T t[16];
    for (int i = 0; i < 8; i++) {
      t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
      r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
      r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
      r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
      r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 4; j++) {
        t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + j + 4], 0x88);
        t[8 * i + j + 4] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + j + 4], 0xdd);
      }
    for (int j = 0; j < 8; j++) {
      r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
      r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xdd);
    }
  }
  static inline T round(T v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  /** y · 2^n for integral n (one instruction here). */
  static inline T ldexp(T y, T n) { return _mm512_scalef_ps(y, n); }
  /** Lanes where x < limit become 0. */
  static inline T zeroBelow(T v, T x, float limit) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(limit), _CMP_GE_OQ), v);
  }
};

#elif defined(ISA_AVX2)
#include <immintrin.h>

struct V {
  using T = __m256;
  static constexpr int L = 8;
  static inline T zero() { return _mm256_setzero_ps(); }
  static inline T set1(float a) { return _mm256_set1_ps(a); }
  static inline T load(const float* p) { return _mm256_loadu_ps(p); }
  static inline void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static inline __m256i first(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static inline T loadN(const float* p, int n) { return _mm256_maskload_ps(p, first(n)); }
  static inline void storeN(float* p, T v, int n) { _mm256_maskstore_ps(p, first(n), v); }
  static inline T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static inline T add(T a, T b) { return _mm256_add_ps(a, b); }
  static inline T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static inline T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static inline T div(T a, T b) { return _mm256_div_ps(a, b); }
  static inline T max(T a, T b) { return _mm256_max_ps(a, b); }
  static inline T min(T a, T b) { return _mm256_min_ps(a, b); }
  static inline T keepFirst(T v, int count, float fill) {
    if (count >= L) return v;
    return _mm256_blendv_ps(_mm256_set1_ps(fill), v, _mm256_castsi256_ps(first(count)));
  }
  static inline T widenBf16(const uint16_t* p) {
    __m128i h = _mm_loadu_si128((const __m128i*)p);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static inline T widenBf16N(const uint16_t* p, int n) {
    alignas(16) uint16_t t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < n; i++) t[i] = p[i];
    return widenBf16(t);
  }
  static inline T widenF16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)p)); }
  static inline T widenF16N(const uint16_t* p, int n) {
    alignas(16) uint16_t t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < n; i++) t[i] = p[i];
    return widenF16(t);
  }
  static inline float sum(T v) {
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));
    b = _mm_add_ss(b, _mm_movehdup_ps(b));
    return _mm_cvtss_f32(b);
  }
  static inline float hmax(T v) {
    __m128 b = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    b = _mm_max_ps(b, _mm_movehl_ps(b, b));
    b = _mm_max_ss(b, _mm_movehdup_ps(b));
    return _mm_cvtss_f32(b);
  }
  static inline T round(T v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  /** y · 2^n for integral n in −127..128: 2^n built in two halves so n = 128 does not overflow the exponent. */
  static inline T ldexp(T y, T n) {
    __m256i ni = _mm256_cvttps_epi32(n);
    __m256i half = _mm256_srai_epi32(ni, 1);
    __m256 a = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
    __m256 b = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(y, a), b);
  }
  static inline T zeroBelow(T v, T x, float limit) {
    return _mm256_and_ps(v, _mm256_cmp_ps(x, _mm256_set1_ps(limit), _CMP_GE_OQ));
  }
};

#elif defined(ISA_GENERIC)
// One lane, scalar: the same arithmetic (a fused multiply-add per step) on a CPU without AVX2/FMA.
struct V {
  using T = float;
  static constexpr int L = 1;
  static inline T zero() { return 0.0f; }
  static inline T set1(float a) { return a; }
  static inline T load(const float* p) { return *p; }
  static inline void store(float* p, T v) { *p = v; }
  static inline T loadN(const float* p, int n) { return n > 0 ? *p : 0.0f; }
  static inline void storeN(float* p, T v, int n) { if (n > 0) *p = v; }
  static inline T fmadd(T a, T b, T c) { return __builtin_fmaf(a, b, c); }
  static inline T add(T a, T b) { return a + b; }
  static inline T sub(T a, T b) { return a - b; }
  static inline T mul(T a, T b) { return a * b; }
  static inline T div(T a, T b) { return a / b; }
  static inline T max(T a, T b) { return a > b ? a : (b == b ? b : a); }
  static inline T min(T a, T b) { return a < b ? a : (b == b ? b : a); }
  static inline T keepFirst(T v, int count, float fill) { return count >= 1 ? v : fill; }
  static inline T bitsToFloat(uint32_t u) { float f; __builtin_memcpy(&f, &u, 4); return f; }
  static inline T widenBf16(const uint16_t* p) { return bitsToFloat((uint32_t)*p << 16); }
  static inline T widenBf16N(const uint16_t* p, int n) { return n > 0 ? widenBf16(p) : 0.0f; }
  static T widenF16(const uint16_t* p) {
    uint32_t h = *p, sign = (h & 0x8000u) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 0) {
      float v = (float)m * 5.9604644775390625e-8f;  // m · 2^-24, exact
      return sign ? -v : v;
    }
    if (e == 31) return bitsToFloat(sign | 0x7f800000u | (m << 13));
    return bitsToFloat(sign | ((e + 112) << 23) | (m << 13));
  }
  static inline T widenF16N(const uint16_t* p, int n) { return n > 0 ? widenF16(p) : 0.0f; }
  static inline float sum(T v) { return v; }
  static inline float hmax(T v) { return v; }
  static inline T round(T v) { return __builtin_rintf(v); }
  static inline T ldexp(T y, T n) {
    int32_t ni = (int32_t)n, half = ni >> 1;
    return y * bitsToFloat((uint32_t)(half + 127) << 23) * bitsToFloat((uint32_t)(ni - half + 127) << 23);
  }
  static inline T zeroBelow(T v, T x, float limit) { return x >= limit ? v : 0.0f; }
};

#else
#error "define one of ISA_AVX512, ISA_AVX2, ISA_GENERIC"
#endif
