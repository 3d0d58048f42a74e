// The N-API face of the native kernels. A Context holds the instruction set chosen for this CPU, the kernel
// threads and scratch; every method reads and writes the typed arrays it is given in place (their memory,
// usually a SharedArrayBuffer, is never copied). Shapes are checked by the TypeScript backend; here each
// array is checked to hold what the kernel will touch, so a bad call is an error, never a stray write.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "pool.h"
#include "table.h"

namespace {

struct Cpu {
  bool avx512, avx2;
};

Cpu detect() {
#if !defined(__x86_64__)
  return {false, false};
#else
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return {avx512, avx2};
#endif
}

template <class E>
struct View {
  E* data;
  size_t length;
};

template <class E>
View<E> view(const Napi::Env& env, const Napi::Value& value, napi_typedarray_type want, const char* role, size_t need) {
  if (!value.IsTypedArray()) throw Napi::TypeError::New(env, std::string("native backend: ") + role + " must be a typed array");
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, &buffer, &offset) != napi_ok || type != want) {
    throw Napi::TypeError::New(env, std::string("native backend: ") + role + " has the wrong element type");
  }
  if (length < need) {
    throw Napi::RangeError::New(env, std::string("native backend: ") + role + " holds " + std::to_string(length) +
                                         " elements, the kernel needs " + std::to_string(need));
  }
  return {(E*)data, length};
}

/** A weight-like operand: Float32Array (f32) or Uint16Array (bf16/f16, per wType). */
const void* weight(const Napi::Env& env, const Napi::Value& value, int wType, const char* role, size_t need) {
  if (wType == W_F32) return view<float>(env, value, napi_float32_array, role, need).data;
  if (wType != W_BF16 && wType != W_F16) throw Napi::TypeError::New(env, std::string("native backend: bad dtype code for ") + role);
  return view<uint16_t>(env, value, napi_uint16_array, role, need).data;
}

int integer(const Napi::Value& v) { return v.As<Napi::Number>().Int32Value(); }
float real(const Napi::Value& v) { return (float)v.As<Napi::Number>().DoubleValue(); }

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Context",
                       {
                           InstanceAccessor<&Context::Isa>("isa"),
                           InstanceAccessor<&Context::Threads>("threads"),
                           InstanceMethod<&Context::Matmul>("matmul"),
                           InstanceMethod<&Context::Attention>("attention"),
                           InstanceMethod<&Context::RmsNorm>("rmsNorm"),
                           InstanceMethod<&Context::Rope>("rope"),
                           InstanceMethod<&Context::Add>("add"),
                           InstanceMethod<&Context::Scale>("scale"),
                           InstanceMethod<&Context::SiluMul>("siluMul"),
                           InstanceMethod<&Context::GatherRows>("gatherRows"),
                           InstanceMethod<&Context::ScatterAddRows>("scatterAddRows"),
                           InstanceMethod<&Context::RouterTopK>("routerTopK"),
                           InstanceMethod<&Context::Dispose>("dispose"),
                       });
  }

  /** new Context(threads, isa?): isa 'avx512' | 'avx2' | 'generic' forces one (an error if this CPU lacks it). */
  explicit Context(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Context>(info) {
    Napi::Env env = info.Env();
    const int threads = info.Length() > 0 && info[0].IsNumber() ? integer(info[0]) : 1;
    if (threads < 1 || threads > 256) throw Napi::RangeError::New(env, "native backend: threads must be in 1..256");
    const Cpu cpu = detect();
    std::string want = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
    if (want.empty()) want = cpu.avx512 ? "avx512" : cpu.avx2 ? "avx2" : "generic";
#if defined(__x86_64__)
    if (want == "avx512" && cpu.avx512) k_ = kernelsAvx512();
    else if (want == "avx2" && cpu.avx2) k_ = kernelsAvx2();
    else
#endif
    if (want == "generic") k_ = kernelsGeneric();
    else throw Napi::Error::New(env, "native backend: this CPU cannot run the " + want + " kernels");
    pool_ = std::make_unique<Pool>(threads);
    wide_.resize(threads);
    attn_.resize(threads);
  }

 private:
  Napi::Value Isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), k_->isa); }
  Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), pool_ ? pool_->size() : 0); }

  void live(const Napi::Env& env) {
    if (!pool_) throw Napi::Error::New(env, "native backend: used after dispose()");
  }

  /** matmul(x, m, k, w, wType, n, bias | null, y) */
  Napi::Value Matmul(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int m = integer(info[1]), k = integer(info[2]), wType = integer(info[4]), n = integer(info[5]);
    const float* x = view<float>(env, info[0], napi_float32_array, "x", (size_t)m * k).data;
    const void* w = weight(env, info[3], wType, "w", (size_t)n * k);
    const float* bias = info[6].IsNull() ? nullptr : view<float>(env, info[6], napi_float32_array, "bias", n).data;
    float* y = view<float>(env, info[7], napi_float32_array, "y", (size_t)m * n).data;
    if (m == 0 || n == 0) return env.Undefined();
    if (k == 0) {
      for (size_t i = 0; i < (size_t)m * n; i++) y[i] = bias ? bias[i % n] : 0.0f;
      return env.Undefined();
    }
    const int pr = k_->panelRows, nr = k_->tileCols;
    const int tiles = (n + nr - 1) / nr;
    // Enough work per thread to pay for waking it (the split never changes a result).
    const double flops = 2.0 * m * n * k;
    const int parts = flops < 4e6 ? 1 : imin(pool_->size(), tiles);
    for (int p = 0; p < parts; p++)
      if (wType != W_F32 && wide_[p].size() < (size_t)nr * k) wide_[p].resize((size_t)nr * k);
    // Rows in chunks (bounds the packed copy of x; never touches a row's arithmetic).
    const int chunk = 16 * pr;
    for (int m0 = 0; m0 < m; m0 += chunk) {
      const int rows = imin(chunk, m - m0);
      const size_t packed = (size_t)((rows + pr - 1) / pr) * pr * k;
      if (packed_.size() < packed) packed_.resize(packed);
      k_->matmulPack(x + (size_t)m0 * k, packed_.data(), rows, k);
      float* yc = y + (size_t)m0 * n;
      pool_->run(parts, [&](int p) {
        const int t0 = (int)((long)tiles * p / parts), t1 = (int)((long)tiles * (p + 1) / parts);
        k_->matmulTiles(packed_.data(), w, wType, bias, yc, rows, n, k, t0, t1, wType == W_F32 ? nullptr : wide_[p].data());
      });
    }
    return env.Undefined();
  }

  /** attention(q, k, v, out, queries, keys, numHeads, numKvHeads, headDim, scale, queryOffset, valueDim) */
  Napi::Value Attention(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int queries = integer(info[4]), keys = integer(info[5]), heads = integer(info[6]), kvHeads = integer(info[7]);
    const int dim = integer(info[8]), offset = integer(info[10]), valueDim = integer(info[11]);
    const float scale = real(info[9]);
    const float* q = view<float>(env, info[0], napi_float32_array, "q", (size_t)queries * heads * dim).data;
    const float* k = view<float>(env, info[1], napi_float32_array, "k", (size_t)keys * kvHeads * dim).data;
    const float* v = view<float>(env, info[2], napi_float32_array, "v", (size_t)keys * kvHeads * valueDim).data;
    float* out = view<float>(env, info[3], napi_float32_array, "out", (size_t)queries * heads * valueDim).data;
    if (queries == 0) return env.Undefined();
    if (offset < 0 || offset + queries > keys) throw Napi::RangeError::New(env, "native backend: attention query positions run past the keys");
    const int usedKeys = offset + queries;
    const size_t scratch = k_->attentionScratch(queries, usedKeys, heads, kvHeads, dim);
    const double work = (double)queries * usedKeys * heads * dim;
    const int parts = work < 2e6 ? 1 : imin(pool_->size(), kvHeads);
    for (int p = 0; p < parts; p++)
      if (attn_[p].size() < scratch) attn_[p].resize(scratch);
    pool_->run(parts, [&](int p) {
      const int g0 = kvHeads * p / parts, g1 = kvHeads * (p + 1) / parts;
      k_->attention(q, k, v, out, queries, keys, heads, kvHeads, dim, valueDim, scale, offset, g0, g1, attn_[p].data());
    });
    return env.Undefined();
  }

  /** rmsNorm(x, w, wType, y, slices, width, eps) */
  Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int wType = integer(info[2]), slices = integer(info[4]), width = integer(info[5]);
    const size_t total = (size_t)slices * width;
    const float* x = view<float>(env, info[0], napi_float32_array, "x", total).data;
    const void* w = weight(env, info[1], wType, "weight", width);
    float* y = view<float>(env, info[3], napi_float32_array, "y", total).data;
    k_->rmsNorm(x, w, wType, y, slices, width, real(info[6]));
    return env.Undefined();
  }

  /** rope(x, y, cos, sin, rows, numHeads, headDim, half) */
  Napi::Value Rope(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int rows = integer(info[4]), heads = integer(info[5]), dim = integer(info[6]), half = integer(info[7]);
    const size_t total = (size_t)rows * heads * dim;
    const float* x = view<float>(env, info[0], napi_float32_array, "x", total).data;
    float* y = view<float>(env, info[1], napi_float32_array, "y", total).data;
    const float* c = view<float>(env, info[2], napi_float32_array, "cos", (size_t)rows * half).data;
    const float* s = view<float>(env, info[3], napi_float32_array, "sin", (size_t)rows * half).data;
    k_->rope(x, y, c, s, rows, heads, dim, half);
    return env.Undefined();
  }

  /** add(a, b, y, n) */
  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const size_t n = (size_t)integer(info[3]);
    k_->add(view<float>(env, info[0], napi_float32_array, "a", n).data, view<float>(env, info[1], napi_float32_array, "b", n).data,
            view<float>(env, info[2], napi_float32_array, "y", n).data, n);
    return env.Undefined();
  }

  /** scale(x, y, n, s) */
  Napi::Value Scale(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const size_t n = (size_t)integer(info[2]);
    k_->scale(view<float>(env, info[0], napi_float32_array, "x", n).data, view<float>(env, info[1], napi_float32_array, "y", n).data, n,
              real(info[3]));
    return env.Undefined();
  }

  /** siluMul(gate, up, y, n) */
  Napi::Value SiluMul(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const size_t n = (size_t)integer(info[3]);
    k_->siluMul(view<float>(env, info[0], napi_float32_array, "gate", n).data, view<float>(env, info[1], napi_float32_array, "up", n).data,
                view<float>(env, info[2], napi_float32_array, "y", n).data, n);
    return env.Undefined();
  }

  /** gatherRows(x, xType, rows, cols, index, out); indices are checked against rows. */
  Napi::Value GatherRows(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int xType = integer(info[1]), rows = integer(info[2]), cols = integer(info[3]);
    const View<int32_t> index = view<int32_t>(env, info[4], napi_int32_array, "index", 0);
    const void* x = weight(env, info[0], xType, "x", (size_t)rows * cols);
    float* out = view<float>(env, info[5], napi_float32_array, "out", index.length * cols).data;
    checkIndex(env, index, rows, "gatherRows", "x");
    k_->gatherRows(x, xType, cols, index.data, (int)index.length, out);
    return env.Undefined();
  }

  /** scatterAddRows(dst, rows, src, cols, index, scale | null) */
  Napi::Value ScatterAddRows(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int rows = integer(info[1]), cols = integer(info[3]);
    const View<int32_t> index = view<int32_t>(env, info[4], napi_int32_array, "index", 0);
    float* dst = view<float>(env, info[0], napi_float32_array, "dst", (size_t)rows * cols).data;
    const float* src = view<float>(env, info[2], napi_float32_array, "src", index.length * cols).data;
    const float* scale = info[5].IsNull() ? nullptr : view<float>(env, info[5], napi_float32_array, "scale", index.length).data;
    checkIndex(env, index, rows, "scatterAddRows", "dst");
    k_->scatterAddRows(dst, src, cols, index.data, (int)index.length, scale);
    return env.Undefined();
  }

  /**
   * routerTopK(logits, rows, experts, topK, renormalize, ids, weights): softmax per row in f32 (each exp of an
   * f32 difference rounded from double, as the js backend's Math.exp), then top-k in slot order.
   */
  Napi::Value RouterTopK(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int rows = integer(info[1]), experts = integer(info[2]), topK = integer(info[3]);
    const bool renormalize = info[4].As<Napi::Boolean>().Value();
    const float* x = view<float>(env, info[0], napi_float32_array, "logits", (size_t)rows * experts).data;
    int32_t* ids = view<int32_t>(env, info[5], napi_int32_array, "ids", (size_t)rows * topK).data;
    float* weights = view<float>(env, info[6], napi_float32_array, "weights", (size_t)rows * topK).data;
    std::vector<float> probs(experts);
    std::vector<char> taken(experts);
    for (int r = 0; r < rows; r++) {
      const float* row = x + (size_t)r * experts;
      float max = -INFINITY;
      for (int e = 0; e < experts; e++) {
        if (std::isnan(row[e])) {
          throw Napi::RangeError::New(env, "routerTopK: logits row " + std::to_string(r) + ", expert " + std::to_string(e) + " is NaN");
        }
        if (row[e] > max) max = row[e];
      }
      float sum = 0;
      for (int e = 0; e < experts; e++) {
        const float d = row[e] - max;
        probs[e] = (float)std::exp((double)d);
        sum = sum + probs[e];
      }
      for (int e = 0; e < experts; e++) probs[e] = probs[e] / sum;
      std::fill(taken.begin(), taken.end(), 0);
      float chosen = 0;
      for (int s = 0; s < topK; s++) {
        int best = -1;
        for (int e = 0; e < experts; e++)
          if (!taken[e] && (best < 0 || probs[e] > probs[best])) best = e;
        taken[best] = 1;
        ids[(size_t)r * topK + s] = best;
        weights[(size_t)r * topK + s] = probs[best];
        chosen = chosen + probs[best];
      }
      if (renormalize)
        for (int s = 0; s < topK; s++) weights[(size_t)r * topK + s] = weights[(size_t)r * topK + s] / chosen;
    }
    return env.Undefined();
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    pool_.reset();
    packed_ = {};
    wide_ = {};
    attn_ = {};
    return info.Env().Undefined();
  }

  static int imin(int a, int b) { return a < b ? a : b; }

  static void checkIndex(const Napi::Env& env, const View<int32_t>& index, int rows, const char* op, const char* role) {
    for (size_t i = 0; i < index.length; i++) {
      if (index.data[i] < 0 || index.data[i] >= rows) {
        throw Napi::RangeError::New(env, std::string(op) + ": index[" + std::to_string(i) + "] = " + std::to_string(index.data[i]) +
                                             " is outside the " + std::to_string(rows) + " rows of " + role);
      }
    }
  }

  const KernelTable* k_ = nullptr;
  std::unique_ptr<Pool> pool_;
  std::vector<float> packed_;
  std::vector<std::vector<float>> wide_;
  std::vector<std::vector<float>> attn_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const Cpu cpu = detect();
  exports.Set("Context", Context::Define(env));
  Napi::Array isas = Napi::Array::New(env);
  uint32_t i = 0;
  if (cpu.avx512) isas.Set(i++, "avx512");
  if (cpu.avx2) isas.Set(i++, "avx2");
  isas.Set(i++, "generic");
  exports.Set("isas", isas);
  return exports;
}

}  // namespace

NODE_API_MODULE(asap_native, Init)
