// The N-API face of the CUDA kernels (compiled by the host compiler; the kernels by nvcc). cudart is linked
// statically, so this loads on a machine without a driver and `probe()` says why nothing can run.
//
// A Context is one rank's device state: its CUDA stream, the resident copies of its weights (`upload`), and
// grow-only device scratch and pinned host staging, all counted against its own budget of device bytes.
// Every op is synchronous: host operands are copied into the pinned staging buffer and on to the device
// (weights given as a resident handle are not copied), the kernels run on the stream, results come back
// the same way, and the call returns after the stream has drained.
#include <cuda_runtime_api.h>
#include <napi.h>

#include <cmath>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels.h"

namespace {

using asap_cuda::W_BF16;
using asap_cuda::W_F16;
using asap_cuda::W_F32;

constexpr size_t kAlign = 256;
size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

int integer(const Napi::Value& v) { return v.As<Napi::Number>().Int32Value(); }

[[noreturn]] void cudaFail(const Napi::Env& env, const std::string& what, cudaError_t e) {
  throw Napi::Error::New(env, "cuda backend: " + what + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

void check(const Napi::Env& env, cudaError_t e, const std::string& what) {
  if (e != cudaSuccess) cudaFail(env, what, e);
}

/** A host typed array's memory, checked to hold `need` elements of the expected type. */
struct HostArray {
  void* data;
  size_t bytes;
};

HostArray hostArray(const Napi::Env& env, const Napi::Value& value, napi_typedarray_type want, size_t elementBytes, const char* role,
                    size_t need) {
  if (!value.IsTypedArray()) throw Napi::TypeError::New(env, std::string("cuda backend: ") + role + " must be a typed array");
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, &buffer, &offset) != napi_ok || type != want) {
    throw Napi::TypeError::New(env, std::string("cuda backend: ") + role + " has the wrong element type");
  }
  if (length < need) {
    throw Napi::RangeError::New(env, std::string("cuda backend: ") + role + " holds " + std::to_string(length) +
                                         " elements, the kernel needs " + std::to_string(need));
  }
  return {data, need * elementBytes};
}

napi_typedarray_type weightArrayType(int wType) { return wType == W_F32 ? napi_float32_array : napi_uint16_array; }
size_t weightBytes(int wType) { return wType == W_F32 ? 4 : 2; }

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Context",
                       {
                           InstanceAccessor<&Context::Device>("device"),
                           InstanceAccessor<&Context::DeviceName>("deviceName"),
                           InstanceAccessor<&Context::BudgetBytes>("budgetBytes"),
                           InstanceAccessor<&Context::UsedBytes>("usedBytes"),
                           InstanceMethod<&Context::Upload>("upload"),
                           InstanceMethod<&Context::Release>("release"),
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
                           InstanceMethod<&Context::TimeMatmul>("timeMatmul"),
                           InstanceMethod<&Context::TimeAttention>("timeAttention"),
                           InstanceMethod<&Context::Dispose>("dispose"),
                       });
  }

  /** new Context(device, budgetBytes): budget 0 takes 90% of the device memory free now. */
  explicit Context(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Context>(info) {
    Napi::Env env = info.Env();
    device_ = integer(info[0]);
    const double budget = info[1].As<Napi::Number>().DoubleValue();
    check(env, cudaSetDevice(device_), "cudaSetDevice(" + std::to_string(device_) + ")");
    cudaDeviceProp prop;
    check(env, cudaGetDeviceProperties(&prop, device_), "cudaGetDeviceProperties");
    name_ = prop.name;
    size_t free = 0, total = 0;
    check(env, cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
    budget_ = budget > 0 ? (size_t)budget : free / 10 * 9;
    check(env, cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  }

  ~Context() override { release(); }

 private:
  struct Allocation {
    void* ptr;
    size_t bytes;
  };

  /** One op's transfers: host arrays in (and out), device-only scratch; laid out before anything is copied. */
  struct Item {
    void* host;  // null: device scratch only
    size_t bytes;
    bool in, out;
    size_t offset;
  };

  class Staging {
   public:
    Staging(Context& c, const Napi::Env& env) : c_(c), env_(env) {}
    int in(const HostArray& a) { return add(a.data, a.bytes, true, false); }
    int inOut(const HostArray& a) { return add(a.data, a.bytes, true, true); }
    int out(const HostArray& a) { return add(a.data, a.bytes, false, true); }
    int scratch(size_t bytes) { return add(nullptr, bytes, false, false); }

    /** Reserves device scratch and pinned staging for every item, then starts the copies in. */
    void commit() {
      size_t device = 0, pinned = 0;
      for (Item& it : items_) {
        it.offset = device;
        device += aligned(it.bytes);
        if (it.host) pinned += aligned(it.bytes);
      }
      c_.ensureScratch(env_, device, pinned);
      size_t p = 0;
      for (Item& it : items_) {
        if (!it.host) continue;
        pinnedOffset_.push_back(p);
        if (it.in && it.bytes > 0) {
          std::memcpy(c_.pinned_ + p, it.host, it.bytes);
          check(env_, cudaMemcpyAsync(dev(&it), c_.pinned_ + p, it.bytes, cudaMemcpyHostToDevice, c_.stream_), "copy to the device");
        }
        p += aligned(it.bytes);
      }
    }

    void* dev(int i) { return dev(&items_[i]); }

    /** Copies results back and waits for the stream; a kernel fault surfaces here. */
    void finish() {
      size_t k = 0;
      for (Item& it : items_) {
        if (!it.host) continue;
        const size_t p = pinnedOffset_[k++];
        if (it.out && it.bytes > 0) {
          check(env_, cudaMemcpyAsync(c_.pinned_ + p, dev(&it), it.bytes, cudaMemcpyDeviceToHost, c_.stream_), "copy from the device");
        }
      }
      check(env_, cudaStreamSynchronize(c_.stream_), "the kernel (stream synchronize)");
      k = 0;
      for (Item& it : items_) {
        if (!it.host) continue;
        const size_t p = pinnedOffset_[k++];
        if (it.out && it.bytes > 0) std::memcpy(it.host, c_.pinned_ + p, it.bytes);
      }
    }

   private:
    int add(void* host, size_t bytes, bool in, bool out) {
      items_.push_back({host, bytes, in, out, 0});
      return (int)items_.size() - 1;
    }
    void* dev(const Item* it) { return c_.scratch_ + it->offset; }

    Context& c_;
    const Napi::Env& env_;
    std::vector<Item> items_;
    std::vector<size_t> pinnedOffset_;
  };

  /** A weight-like operand: a resident handle (no copy) or a host typed array staged for this call. */
  struct Operand {
    const void* device;  // set for a resident handle
    int staged;          // the staging item otherwise
  };

  Operand operand(const Napi::Env& env, Staging& s, const Napi::Value& v, napi_typedarray_type type, size_t elementBytes,
                  const char* role, size_t need) {
    if (v.IsNumber()) {
      const Allocation& a = resident(env, integer(v), role);
      if (a.bytes < need * elementBytes) {
        throw Napi::RangeError::New(env, std::string("cuda backend: resident ") + role + " holds " + std::to_string(a.bytes) +
                                             " bytes, the kernel needs " + std::to_string(need * elementBytes));
      }
      return {a.ptr, -1};
    }
    return {nullptr, s.in(hostArray(env, v, type, elementBytes, role, need))};
  }

  static const void* address(Staging& s, const Operand& o) { return o.device ? o.device : s.dev(o.staged); }

  const Allocation& resident(const Napi::Env& env, int handle, const char* role) {
    auto it = resident_.find(handle);
    if (it == resident_.end()) throw Napi::Error::New(env, std::string("cuda backend: ") + role + " names a released resident copy");
    return it->second;
  }

  void live(const Napi::Env& env) {
    if (!stream_) throw Napi::Error::New(env, "cuda backend: used after dispose()");
    check(env, cudaSetDevice(device_), "cudaSetDevice");
  }

  /** Device bytes within the budget, or an error that says how many were asked for and what is in use. */
  void* deviceAlloc(const Napi::Env& env, size_t bytes, const char* what) {
    if (used_ + bytes > budget_) {
      Napi::Error e = Napi::Error::New(env, "cuda backend: device memory budget exceeded: " + std::string(what) + " needs " +
                                                std::to_string(bytes) + " bytes; " + std::to_string(used_) + " of " +
                                                std::to_string(budget_) + " bytes in use (device " + std::to_string(device_) + ")");
      e.Set("code", Napi::String::New(env, "ERR_ASAP_DEVICE_MEMORY"));
      e.Set("requestedBytes", Napi::Number::New(env, (double)bytes));
      e.Set("usedBytes", Napi::Number::New(env, (double)used_));
      e.Set("budgetBytes", Napi::Number::New(env, (double)budget_));
      throw e;
    }
    void* p = nullptr;
    check(env, cudaMalloc(&p, bytes == 0 ? 1 : bytes), std::string("cudaMalloc of ") + std::to_string(bytes) + " bytes for " + what);
    used_ += bytes;
    return p;
  }

  void deviceFree(void* p, size_t bytes) {
    if (p) cudaFree(p);
    used_ -= bytes;
  }

  void ensureScratch(const Napi::Env& env, size_t device, size_t pinned) {
    if (device > scratchBytes_) {
      check(env, cudaStreamSynchronize(stream_), "stream synchronize");
      deviceFree(scratch_, scratchBytes_);
      scratch_ = nullptr;
      scratchBytes_ = 0;
      const size_t bytes = aligned(device) + (1 << 20);
      scratch_ = static_cast<char*>(deviceAlloc(env, bytes, "scratch"));
      scratchBytes_ = bytes;
    }
    if (pinned > pinnedBytes_) {
      check(env, cudaStreamSynchronize(stream_), "stream synchronize");
      if (pinned_) cudaFreeHost(pinned_);
      pinned_ = nullptr;
      pinnedBytes_ = 0;
      const size_t bytes = aligned(pinned) + (1 << 20);
      check(env, cudaMallocHost(reinterpret_cast<void**>(&pinned_), bytes), "cudaMallocHost (pinned staging)");
      pinnedBytes_ = bytes;
    }
  }

  Napi::Value Device(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), device_); }
  Napi::Value DeviceName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }
  Napi::Value BudgetBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), (double)budget_); }
  Napi::Value UsedBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), (double)used_); }

  /** upload(typedArray) → handle: a resident device copy (weights: uploaded once, read by every later op). */
  Napi::Value Upload(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "cuda backend: upload takes a typed array");
    // The data pointer from the typed array itself: its buffer may be a SharedArrayBuffer, which
    // napi_get_arraybuffer_info does not take.
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value buffer;
    size_t offset;
    if (napi_get_typedarray_info(env, info[0], &type, &length, &data, &buffer, &offset) != napi_ok ||
        (type != napi_float32_array && type != napi_uint16_array)) {
      throw Napi::TypeError::New(env, "cuda backend: upload takes a Float32Array or a Uint16Array");
    }
    const size_t bytes = length * (type == napi_float32_array ? 4 : 2);
    const void* host = data;
    void* p = deviceAlloc(env, bytes, "a resident weight");
    const cudaError_t e = cudaMemcpy(p, host, bytes, cudaMemcpyHostToDevice);
    if (e != cudaSuccess) {
      deviceFree(p, bytes);
      cudaFail(env, "upload of a resident weight", e);
    }
    const int handle = nextHandle_++;
    resident_[handle] = {p, bytes};
    return Napi::Number::New(env, handle);
  }

  Napi::Value Release(const Napi::CallbackInfo& info) {
    auto it = resident_.find(integer(info[0]));
    if (it != resident_.end() && stream_) {
      cudaSetDevice(device_);
      cudaStreamSynchronize(stream_);
      deviceFree(it->second.ptr, it->second.bytes);
      resident_.erase(it);
    }
    return info.Env().Undefined();
  }

  /** matmul(x, m, k, w | handle, wType, n, bias | handle | null, y, parts) */
  Napi::Value Matmul(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int m = integer(info[1]), k = integer(info[2]), wType = integer(info[4]), n = integer(info[5]), parts = integer(info[8]);
    Staging s(*this, env);
    const int x = s.in(hostArray(env, info[0], napi_float32_array, 4, "x", (size_t)m * k));
    const Operand w = operand(env, s, info[3], weightArrayType(wType), weightBytes(wType), "w", (size_t)n * k);
    const bool hasBias = !info[6].IsNull();
    const Operand bias = hasBias ? operand(env, s, info[6], napi_float32_array, 4, "bias", n) : Operand{nullptr, -1};
    const int y = s.out(hostArray(env, info[7], napi_float32_array, 4, "y", (size_t)m * n));
    const int scratch = s.scratch(asap_cuda::matmulScratchBytes(m, k, wType, parts));
    s.commit();
    check(env,
          asap_cuda::matmul(static_cast<const float*>(s.dev(x)), m, k, address(s, w), wType, n,
                            hasBias ? static_cast<const float*>(address(s, bias)) : nullptr, static_cast<float*>(s.dev(y)), parts,
                            s.dev(scratch), stream_),
          "matmul launch");
    s.finish();
    return env.Undefined();
  }

  /** attention(q, k, v, out, queries, keys, numHeads, numKvHeads, headDim, scale, queryOffset, valueDim, tensorCores) */
  Napi::Value Attention(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int queries = integer(info[4]), keys = integer(info[5]), heads = integer(info[6]), kvHeads = integer(info[7]);
    const int headDim = integer(info[8]), queryOffset = integer(info[10]), valueDim = integer(info[11]);
    const float scale = info[9].As<Napi::Number>().FloatValue();
    const bool tensorCores = info[12].As<Napi::Boolean>().Value();
    if (headDim > asap_cuda::kMaxHeadDim || valueDim > asap_cuda::kMaxHeadDim) {
      throw Napi::RangeError::New(env, "cuda backend: attention takes head widths up to " + std::to_string(asap_cuda::kMaxHeadDim) +
                                           ", got " + std::to_string(headDim) + " (q/k) and " + std::to_string(valueDim) + " (v)");
    }
    Staging s(*this, env);
    const int q = s.in(hostArray(env, info[0], napi_float32_array, 4, "q", (size_t)queries * heads * headDim));
    const int k = s.in(hostArray(env, info[1], napi_float32_array, 4, "k", (size_t)keys * kvHeads * headDim));
    const int v = s.in(hostArray(env, info[2], napi_float32_array, 4, "v", (size_t)keys * kvHeads * valueDim));
    const int out = s.out(hostArray(env, info[3], napi_float32_array, 4, "out", (size_t)queries * heads * valueDim));
    s.commit();
    check(env,
          asap_cuda::attention(static_cast<const float*>(s.dev(q)), static_cast<const float*>(s.dev(k)),
                               static_cast<const float*>(s.dev(v)), static_cast<float*>(s.dev(out)), queries, keys, heads, kvHeads,
                               headDim, valueDim, scale, queryOffset, tensorCores, stream_),
          "attention launch");
    s.finish();
    return env.Undefined();
  }

  /** rmsNorm(x, w | handle, wType, y, slices, width, eps) */
  Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int wType = integer(info[2]), slices = integer(info[4]), width = integer(info[5]);
    const float eps = info[6].As<Napi::Number>().FloatValue();
    Staging s(*this, env);
    const int x = s.in(hostArray(env, info[0], napi_float32_array, 4, "x", (size_t)slices * width));
    const Operand w = operand(env, s, info[1], weightArrayType(wType), weightBytes(wType), "weight", width);
    const int y = s.out(hostArray(env, info[3], napi_float32_array, 4, "y", (size_t)slices * width));
    s.commit();
    check(env, asap_cuda::rmsNorm(static_cast<const float*>(s.dev(x)), address(s, w), wType, static_cast<float*>(s.dev(y)), slices, width, eps, stream_),
          "rmsNorm launch");
    s.finish();
    return env.Undefined();
  }

  /** rope(x, y, cos, sin, rows, numHeads, headDim, half) */
  Napi::Value Rope(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int rows = integer(info[4]), heads = integer(info[5]), headDim = integer(info[6]), half = integer(info[7]);
    const size_t n = (size_t)rows * heads * headDim;
    Staging s(*this, env);
    const int x = s.in(hostArray(env, info[0], napi_float32_array, 4, "x", n));
    const int y = s.out(hostArray(env, info[1], napi_float32_array, 4, "y", n));
    const int c = s.in(hostArray(env, info[2], napi_float32_array, 4, "cos", (size_t)rows * half));
    const int sn = s.in(hostArray(env, info[3], napi_float32_array, 4, "sin", (size_t)rows * half));
    s.commit();
    check(env,
          asap_cuda::rope(static_cast<const float*>(s.dev(x)), static_cast<float*>(s.dev(y)), static_cast<const float*>(s.dev(c)),
                          static_cast<const float*>(s.dev(sn)), rows, heads, headDim, half, stream_),
          "rope launch");
    s.finish();
    return env.Undefined();
  }

  /** add(a, b, y, n) */
  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const size_t n = (size_t)info[3].As<Napi::Number>().Int64Value();
    Staging s(*this, env);
    const int a = s.in(hostArray(env, info[0], napi_float32_array, 4, "a", n));
    const int b = s.in(hostArray(env, info[1], napi_float32_array, 4, "b", n));
    const int y = s.out(hostArray(env, info[2], napi_float32_array, 4, "y", n));
    s.commit();
    check(env, asap_cuda::add(static_cast<const float*>(s.dev(a)), static_cast<const float*>(s.dev(b)), static_cast<float*>(s.dev(y)), n, stream_),
          "add launch");
    s.finish();
    return env.Undefined();
  }

  /** scale(x, y, n, s) */
  Napi::Value Scale(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const size_t n = (size_t)info[2].As<Napi::Number>().Int64Value();
    const float factor = info[3].As<Napi::Number>().FloatValue();
    Staging s(*this, env);
    const int x = s.in(hostArray(env, info[0], napi_float32_array, 4, "x", n));
    const int y = s.out(hostArray(env, info[1], napi_float32_array, 4, "y", n));
    s.commit();
    check(env, asap_cuda::scale(static_cast<const float*>(s.dev(x)), static_cast<float*>(s.dev(y)), n, factor, stream_), "scale launch");
    s.finish();
    return env.Undefined();
  }

  /** siluMul(gate, up, y, n) */
  Napi::Value SiluMul(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const size_t n = (size_t)info[3].As<Napi::Number>().Int64Value();
    Staging s(*this, env);
    const int g = s.in(hostArray(env, info[0], napi_float32_array, 4, "gate", n));
    const int u = s.in(hostArray(env, info[1], napi_float32_array, 4, "up", n));
    const int y = s.out(hostArray(env, info[2], napi_float32_array, 4, "y", n));
    s.commit();
    check(env, asap_cuda::siluMul(static_cast<const float*>(s.dev(g)), static_cast<const float*>(s.dev(u)), static_cast<float*>(s.dev(y)), n, stream_),
          "siluMul launch");
    s.finish();
    return env.Undefined();
  }

  /** gatherRows(x | handle, xType, rows, cols, index, out) */
  Napi::Value GatherRows(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int xType = integer(info[1]), rows = integer(info[2]), cols = integer(info[3]);
    const HostArray index = hostArray(env, info[4], napi_int32_array, 4, "index", info[4].As<Napi::TypedArray>().ElementLength());
    const int count = (int)(index.bytes / 4);
    checkIndex(env, index, rows, "gatherRows", "x");
    Staging s(*this, env);
    const Operand x = operand(env, s, info[0], weightArrayType(xType), weightBytes(xType), "x", (size_t)rows * cols);
    const int ix = s.in(index);
    const int out = s.out(hostArray(env, info[5], napi_float32_array, 4, "out", (size_t)count * cols));
    s.commit();
    check(env,
          asap_cuda::gatherRows(address(s, x), xType, cols, static_cast<const int32_t*>(s.dev(ix)), count, static_cast<float*>(s.dev(out)),
                                stream_),
          "gatherRows launch");
    s.finish();
    return env.Undefined();
  }

  /** scatterAddRows(dst, rows, src, cols, index, scale | null) */
  Napi::Value ScatterAddRows(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int rows = integer(info[1]), cols = integer(info[3]);
    const HostArray index = hostArray(env, info[4], napi_int32_array, 4, "index", info[4].As<Napi::TypedArray>().ElementLength());
    const int count = (int)(index.bytes / 4);
    checkIndex(env, index, rows, "scatterAddRows", "dst");
    Staging s(*this, env);
    const int dst = s.inOut(hostArray(env, info[0], napi_float32_array, 4, "dst", (size_t)rows * cols));
    const int src = s.in(hostArray(env, info[2], napi_float32_array, 4, "src", (size_t)count * cols));
    const int ix = s.in(index);
    const bool scaled = !info[5].IsNull();
    const int sc = scaled ? s.in(hostArray(env, info[5], napi_float32_array, 4, "scale", count)) : -1;
    s.commit();
    check(env,
          asap_cuda::scatterAddRows(static_cast<float*>(s.dev(dst)), static_cast<const float*>(s.dev(src)), cols,
                                    static_cast<const int32_t*>(s.dev(ix)), count, scaled ? static_cast<const float*>(s.dev(sc)) : nullptr,
                                    stream_),
          "scatterAddRows launch");
    s.finish();
    return env.Undefined();
  }

  /** routerTopK(logits, rows, experts, topK, renormalize, ids, weights): NaN logits are an error, checked here. */
  Napi::Value RouterTopK(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int rows = integer(info[1]), experts = integer(info[2]), topK = integer(info[3]);
    const bool renormalize = info[4].As<Napi::Boolean>().Value();
    const HostArray logits = hostArray(env, info[0], napi_float32_array, 4, "logits", (size_t)rows * experts);
    const float* l = static_cast<const float*>(logits.data);
    for (size_t i = 0; i < (size_t)rows * experts; i++) {
      if (std::isnan(l[i])) {
        throw Napi::RangeError::New(env, "routerTopK: logits row " + std::to_string(i / experts) + ", expert " +
                                             std::to_string(i % experts) + " is NaN");
      }
    }
    Staging s(*this, env);
    const int x = s.in(logits);
    const int ids = s.out(hostArray(env, info[5], napi_int32_array, 4, "ids", (size_t)rows * topK));
    const int weights = s.out(hostArray(env, info[6], napi_float32_array, 4, "weights", (size_t)rows * topK));
    const int probs = s.scratch(sizeof(float) * rows * experts);
    s.commit();
    check(env,
          asap_cuda::routerTopK(static_cast<const float*>(s.dev(x)), rows, experts, topK, renormalize, static_cast<int32_t*>(s.dev(ids)),
                                static_cast<float*>(s.dev(weights)), static_cast<float*>(s.dev(probs)), stream_),
          "routerTopK launch");
    s.finish();
    return env.Undefined();
  }

  /** Device buffers for a kernel benchmark, freed (and uncounted) when it ends. */
  class BenchBuffers {
   public:
    BenchBuffers(Context& c, const Napi::Env& env) : c_(c), env_(env) {}
    ~BenchBuffers() {
      for (const Allocation& a : list_) c_.deviceFree(a.ptr, a.bytes);
    }
    template <class T>
    T* take(size_t count) {
      void* p = c_.deviceAlloc(env_, count * sizeof(T), "a kernel benchmark");
      list_.push_back({p, count * sizeof(T)});
      return static_cast<T*>(p);
    }

   private:
    Context& c_;
    const Napi::Env& env_;
    std::vector<Allocation> list_;
  };

  /** Milliseconds per run of `launch` (CUDA events around `iterations` runs, after one warm-up run). */
  template <class F>
  double timeKernel(const Napi::Env& env, int iterations, F launch) {
    check(env, launch(), "benchmark warm-up launch");
    cudaEvent_t start, stop;
    check(env, cudaEventCreate(&start), "cudaEventCreate");
    check(env, cudaEventCreate(&stop), "cudaEventCreate");
    check(env, cudaEventRecord(start, stream_), "cudaEventRecord");
    for (int i = 0; i < iterations; i++) check(env, launch(), "benchmark launch");
    check(env, cudaEventRecord(stop, stream_), "cudaEventRecord");
    check(env, cudaEventSynchronize(stop), "the benchmark kernels");
    float ms = 0;
    check(env, cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return ms / iterations;
  }

  /** timeMatmul(m, k, n, wType, parts, iterations) → ms per kernel call, operands made and kept on the device. */
  Napi::Value TimeMatmul(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int m = integer(info[0]), k = integer(info[1]), n = integer(info[2]), wType = integer(info[3]), parts = integer(info[4]);
    const int iterations = integer(info[5]);
    if (wType != W_F32 && wType != W_BF16) throw Napi::RangeError::New(env, "cuda backend: timeMatmul takes f32 or bf16 weights");
    BenchBuffers b(*this, env);
    float* x = b.take<float>((size_t)m * k);
    float* wf = b.take<float>((size_t)n * k);
    float* y = b.take<float>((size_t)m * n);
    uint16_t* wb = wType == W_BF16 ? b.take<uint16_t>((size_t)n * k) : nullptr;
    void* scratch = b.take<char>(asap_cuda::matmulScratchBytes(m, k, wType, parts) + 1);
    check(env, asap_cuda::fillPattern(x, (size_t)m * k, 1, stream_), "fill");
    check(env, asap_cuda::fillPattern(wf, (size_t)n * k, 2, stream_), "fill");
    if (wb) check(env, asap_cuda::toBf16(wf, wb, (size_t)n * k, stream_), "bf16 conversion");
    const void* w = wb ? static_cast<const void*>(wb) : wf;
    const double ms = timeKernel(env, iterations, [&] { return asap_cuda::matmul(x, m, k, w, wType, n, nullptr, y, parts, scratch, stream_); });
    return Napi::Number::New(env, ms);
  }

  /** timeAttention(tokens, numHeads, numKvHeads, headDim, iterations, tensorCores) → ms per causal prefill over the prompt. */
  Napi::Value TimeAttention(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    const int tokens = integer(info[0]), heads = integer(info[1]), kvHeads = integer(info[2]), headDim = integer(info[3]);
    const int iterations = integer(info[4]);
    const bool tensorCores = info[5].As<Napi::Boolean>().Value();
    BenchBuffers b(*this, env);
    float* q = b.take<float>((size_t)tokens * heads * headDim);
    float* k = b.take<float>((size_t)tokens * kvHeads * headDim);
    float* v = b.take<float>((size_t)tokens * kvHeads * headDim);
    float* out = b.take<float>((size_t)tokens * heads * headDim);
    check(env, asap_cuda::fillPattern(q, (size_t)tokens * heads * headDim, 3, stream_), "fill");
    check(env, asap_cuda::fillPattern(k, (size_t)tokens * kvHeads * headDim, 4, stream_), "fill");
    check(env, asap_cuda::fillPattern(v, (size_t)tokens * kvHeads * headDim, 5, stream_), "fill");
    const float scale = 1.0f / std::sqrt((float)headDim);
    const double ms = timeKernel(env, iterations, [&] {
      return asap_cuda::attention(q, k, v, out, tokens, tokens, heads, kvHeads, headDim, headDim, scale, 0, tensorCores, stream_);
    });
    return Napi::Number::New(env, ms);
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    release();
    return info.Env().Undefined();
  }

  void release() {
    if (!stream_) return;
    cudaSetDevice(device_);
    cudaStreamSynchronize(stream_);
    for (auto& [handle, a] : resident_) deviceFree(a.ptr, a.bytes);
    resident_.clear();
    deviceFree(scratch_, scratchBytes_);
    scratch_ = nullptr;
    scratchBytes_ = 0;
    if (pinned_) cudaFreeHost(pinned_);
    pinned_ = nullptr;
    pinnedBytes_ = 0;
    cudaStreamDestroy(stream_);
    stream_ = nullptr;
  }

  static void checkIndex(const Napi::Env& env, const HostArray& index, int rows, const char* op, const char* role) {
    const int32_t* ix = static_cast<const int32_t*>(index.data);
    for (size_t i = 0; i < index.bytes / 4; i++) {
      if (ix[i] < 0 || ix[i] >= rows) {
        throw Napi::RangeError::New(env, std::string(op) + ": index[" + std::to_string(i) + "] = " + std::to_string(ix[i]) +
                                             " is outside the " + std::to_string(rows) + " rows of " + role);
      }
    }
  }

  int device_ = 0;
  std::string name_;
  cudaStream_t stream_ = nullptr;
  size_t budget_ = 0, used_ = 0;
  std::unordered_map<int, Allocation> resident_;
  int nextHandle_ = 1;
  char* scratch_ = nullptr;
  size_t scratchBytes_ = 0;
  char* pinned_ = nullptr;
  size_t pinnedBytes_ = 0;
};

/**
 * probe() → { devices, name, computeCapability, totalBytes } for device 0, or { reason } where no kernel can
 * run: no driver, no device, or a device older than the sm_90 code this build carries.
 */
Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e == cudaErrorInsufficientDriver) {
    result.Set("reason", "no CUDA driver (libcuda.so.1 is missing or older than this CUDA 13 runtime)");
    return result;
  }
  if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
    result.Set("reason", "no device (the CUDA driver sees no GPU)");
    return result;
  }
  if (e != cudaSuccess) {
    result.Set("reason", std::string("CUDA runtime error: ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
    return result;
  }
  cudaDeviceProp prop;
  const cudaError_t pe = cudaGetDeviceProperties(&prop, 0);
  if (pe != cudaSuccess) {
    result.Set("reason", std::string("cudaGetDeviceProperties failed: ") + cudaGetErrorString(pe));
    return result;
  }
  const std::string cc = std::to_string(prop.major) + "." + std::to_string(prop.minor);
  if (prop.major < 9) {
    result.Set("reason", "device 0 (" + std::string(prop.name) + ") has compute capability " + cc + "; this build carries sm_90 code only");
    return result;
  }
  result.Set("devices", count);
  result.Set("name", prop.name);
  result.Set("computeCapability", cc);
  result.Set("totalBytes", (double)prop.totalGlobalMem);
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Context", Context::Define(env));
  exports.Set("probe", Napi::Function::New(env, Probe));
  return exports;
}

}  // namespace

NODE_API_MODULE(asap_cuda, Init)
