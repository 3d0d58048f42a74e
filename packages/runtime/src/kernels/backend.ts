import type { Arena } from '../tensor/arena.ts';
import type { DType } from '../tensor/dtype.ts';
import type { Tensor } from '../tensor/tensor.ts';

export type BackendName = 'js' | 'wasm' | 'native' | 'cuda';

/** Every op a backend may offer. A backend lists the ones it has, with the weight/input dtypes it accepts. */
export type OpName =
  | 'matmul'
  | 'rmsNorm'
  | 'rope'
  | 'attention'
  | 'routerTopK'
  | 'siluMul'
  | 'gatherRows'
  | 'scatterAddRows'
  | 'add'
  | 'scale';

/** Options of `createBackend`; each backend reads the ones that concern it. */
export interface BackendOptions {
  /** wasm: bytes of the backend's shared WebAssembly.Memory (resident weights + scratch); fixed, never grown. */
  readonly memoryBytes?: number;
  /**
   * wasm: use relaxed SIMD (fused multiply-add) when this V8 offers it ('auto', the default), insist on it
   * (true: an error if unavailable), or never (false: plain SIMD, matmul bit-identical to the js backend).
   */
  readonly relaxedSimd?: boolean | 'auto';
  /**
   * native: kernel threads for matmul and attention (output columns are split among them, so results do not
   * depend on it); 1 when absent.
   */
  readonly threads?: number;
  /** cuda: the GPU to run on; 0 when absent. */
  readonly device?: number;
  /**
   * cuda: device bytes this backend may hold (resident weights + scratch), counted by the backend itself;
   * exceeding it is a DeviceMemoryExceededError. 90% of the device memory free at creation when absent.
   */
  readonly deviceMemoryBytes?: number;
  /**
   * cuda: how the tensor-core matmul (bf16 weights) reads the f32 activations: 'split' (default) as two bf16
   * parts, hi + lo (two MMAs per step, ≈ 16 significant bits: near-f32 results); 'bf16' rounded to one bf16
   * (one MMA, twice the speed; relative error up to 2⁻⁹ per product).
   */
  readonly matmulActivations?: 'split' | 'bf16';
  /**
   * cuda: attention in 'f32' on CUDA cores (default), or 'bf16' on tensor cores: q, k, v and the softmax
   * weights rounded to bf16, f32 accumulation and statistics (head widths multiples of 16; others stay f32).
   * Relative error of the output up to ≈ 2⁻⁸: for speed, not for matching the reference to f32 bounds.
   */
  readonly attentionPrecision?: 'f32' | 'bf16';
}

/**
 * Per op, the storage dtypes a backend reads for the op's weight-like operand: w and bias of matmul, the
 * weight of rmsNorm, x of gatherRows; for the other ops, their (f32) inputs. Activations are always f32.
 * Anything outside the list is a KernelUnsupportedError, never a silent conversion or another backend.
 */
export type BackendCapabilities = Readonly<Record<OpName, readonly DType[]>>;

/** Options of causal grouped-query attention over one prompt (or one chunk of it). */
export interface AttentionOptions {
  readonly numHeads: number;
  readonly numKvHeads: number;
  /** Per-head width of q and k. */
  readonly headDim: number;
  /**
   * Per-head width of v and of the output (multi-head latent attention: v_head_dim ≠ qk_head_dim);
   * headDim when absent. v is [Tk, Hkv*valueHeadDim], the result [Tq, H*valueHeadDim].
   */
  readonly valueHeadDim?: number;
  /** Multiplier of q·k; 1/sqrt(headDim) when absent. */
  readonly scale?: number;
  /**
   * Absolute position of the first query row. Query row i sits at `queryOffset + i` and attends to keys
   * 0..queryOffset+i, so a chunk of a long prompt attends to the whole KV so far. Defaults to
   * `keys.rowCount - queries.rowCount` (the queries are the last rows of the keys).
   */
  readonly queryOffset?: number;
}

export interface RopeOptions {
  readonly numHeads: number;
  readonly headDim: number;
  readonly theta: number;
  /** Absolute position of each row. */
  readonly positions: Int32Array;
  /** Rotary dims per head (partial rotary); headDim when absent. */
  readonly rotaryDim?: number;
  /**
   * The rotaryDim/2 inverse frequencies, when not 1/theta^(2i/rotaryDim) (scaled RoPE such as YaRN); theta
   * is then unused.
   */
  readonly inverseFrequencies?: Float32Array;
  /** Multiplier of cos and sin (YaRN's attention factor, Hugging Face `attention_scaling`); 1 when absent. */
  readonly attentionScaling?: number;
}

export interface RouterOptions {
  readonly topK: number;
  /** Divide the top-k probabilities by their sum (mixtral always; qwen per `norm_topk_prob`). */
  readonly renormalize: boolean;
}

/** The k chosen experts per row, in slot order (descending probability, lowest expert id on ties). */
export interface RouterChoice {
  readonly topK: number;
  /** [rows * topK] expert ids. */
  readonly experts: Int32Array;
  /** [rows * topK] gate weights. */
  readonly weights: Float32Array;
}

/**
 * One interface, interchangeable backends. All ops compute in f32 and return f32 tensors; weights may
 * be stored f32 or bf16 (see capabilities). Where `out` is given the result is written there (it may
 * alias an input only where the op says so). Every op is batch-invariant: a row's result never depends
 * on which other rows share the call or where it sits.
 */
export interface Backend {
  readonly name: BackendName;
  readonly capabilities: BackendCapabilities;

  /** Y[M,N] = X[M,K] · W[N,K]ᵀ (W row-major as Hugging Face stores Linear weights), plus optional bias[N]. */
  matmul(x: Tensor, w: Tensor, bias?: Tensor, out?: Tensor): Tensor;
  /** Each row of x[M,D] (or each D-wide slice of a row, for per-head q/k norm) normalised, times weight[D]. */
  rmsNorm(x: Tensor, weight: Tensor, eps: number, out?: Tensor): Tensor;
  /** Rotary embedding, Hugging Face "rotate_half" layout, on x[M, numHeads*headDim]. In place allowed (out = x). */
  rope(x: Tensor, options: RopeOptions, out?: Tensor): Tensor;
  /**
   * Causal GQA: q[Tq, H*Dh], k[Tk, Hkv*Dh], v[Tk, Hkv*Dv] → [Tq, H*Dv] (Dv = valueHeadDim, Dh when absent);
   * memory linear in Tk (tiled, no Tq×Tk matrix).
   */
  attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions, out?: Tensor): Tensor;
  /** Softmax over logits[M,E] then top-k per row. */
  routerTopK(logits: Tensor, options: RouterOptions): RouterChoice;
  /** silu(gate) * up, elementwise over [M,F]. In place allowed (out = gate). */
  siluMul(gate: Tensor, up: Tensor, out?: Tensor): Tensor;
  /** out[i] = x[index[i]] (x may be bf16, e.g. an embedding table; out is f32). */
  gatherRows(x: Tensor, index: Int32Array, out?: Tensor): Tensor;
  /** dst[index[i]] += scale[i] * src[i], applied in i order (so slot order fixes the sum). */
  scatterAddRows(dst: Tensor, src: Tensor, index: Int32Array, scale?: Float32Array): Tensor;
  /** a + b elementwise. In place allowed (out = a). */
  add(a: Tensor, b: Tensor, out?: Tensor): Tensor;
  /** x * s elementwise. In place allowed. */
  scale(x: Tensor, s: number, out?: Tensor): Tensor;

  /**
   * A copy of `t` in memory the kernels read in place (for wasm, its linear memory), for weights that are
   * used many times. Backends that compute on any memory return `t` itself.
   */
  resident(t: Tensor): Tensor;
  /**
   * Optional: the memory this backend's kernels compute on in place (wasm: an Arena over its linear memory).
   * Activations, scratch regions and KV caches allocated here are read and written with no copy; operands
   * elsewhere are copied in and results copied out on every op. Backends that compute on any memory (js, a
   * native CPU backend) leave it out: allocate through `backendTensor` / `Scratch.create(name, bytes,
   * backend.arena)`, which fall back to fresh shared memory.
   */
  readonly arena?: Arena;

  /** Frees what the backend holds (wasm memory, native handles). */
  dispose(): void;
}
