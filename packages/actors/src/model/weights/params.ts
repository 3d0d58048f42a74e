/**
 * The parameters of a model, generic in the leaf: `TensorSpec` (name + shape, what a checkpoint must hold)
 * or `Tensor` (loaded weights). One structure serves naming, loading, generation and the forward.
 */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** A SiLU-gated FFN: down(silu(gate(x)) * up(x)). Mixtral's w1/w3/w2 are gate/up/down. */
export interface MlpParams<T> {
  readonly gate: T;
  readonly up: T;
  readonly down: T;
}

export interface AttentionParams<T> {
  readonly q: T;
  readonly k: T;
  readonly v: T;
  readonly o: T;
  readonly qBias?: T;
  readonly kBias?: T;
  readonly vBias?: T;
  readonly oBias?: T;
  /** Per-head RMSNorm weights [headDim] (qwen3_moe). */
  readonly qNorm?: T;
  readonly kNorm?: T;
}

/** Multi-head latent attention (deepseek_v3), Hugging Face's modules. */
export interface MlaParams<T> {
  readonly kind: 'mla';
  /** q_proj [H·(dn+dr), hidden], when q_lora_rank is null; otherwise qA → qANorm → qB. */
  readonly q?: T;
  /** q_a_proj [qLoraRank, hidden], q_a_layernorm [qLoraRank], q_b_proj [H·(dn+dr), qLoraRank]. */
  readonly qA?: T;
  readonly qANorm?: T;
  readonly qB?: T;
  /** kv_a_proj_with_mqa [kvLoraRank + dr, hidden]: rows of the latent, then of the shared RoPE key. */
  readonly kvA: T;
  /** kv_a_layernorm [kvLoraRank]. */
  readonly kvANorm: T;
  /** kv_b_proj [H·(dn+dv), kvLoraRank]: per head, the rows of k_nope then of v. */
  readonly kvB: T;
  /** o_proj [hidden, H·dv]. */
  readonly o: T;
}

/** Grouped-query attention (mixtral, qwen) or multi-head latent attention (deepseek_v3). */
export type SelfAttentionParams<T> = AttentionParams<T> | MlaParams<T>;

export function isMla<T>(p: SelfAttentionParams<T>): p is MlaParams<T> {
  return (p as MlaParams<T>).kind === 'mla';
}

interface LayerCommon<T> {
  readonly index: number;
  readonly inputNorm: T;
  readonly postAttentionNorm: T;
  readonly attention: SelfAttentionParams<T>;
}

export interface DenseLayerParams<T> extends LayerCommon<T> {
  readonly kind: 'dense';
  readonly mlp: MlpParams<T>;
}

/** The attention-side parts of a MoE layer; its routed experts live apart (see `ExpertParams`). */
export interface MoeLayerParams<T> extends LayerCommon<T> {
  readonly kind: 'moe';
  /** Router weight [numExperts, hidden]. */
  readonly router: T;
  /** deepseek_v3 e_score_correction_bias [numExperts]: added to the scores for choosing experts only. */
  readonly routerBias?: T;
  /** An always-on expert: qwen2_moe scales it by sigmoid(sharedExpertGate · x), deepseek_v3 adds it as is. */
  readonly sharedExpert?: MlpParams<T>;
  /** [1, hidden]. */
  readonly sharedExpertGate?: T;
}

export type LayerParams<T> = DenseLayerParams<T> | MoeLayerParams<T>;

/** Everything but the routed experts: what an attention rank holds. */
export interface AttentionSideParams<T> {
  readonly embedTokens: T;
  readonly finalNorm: T;
  /** The LM head; the embedding itself when tie_word_embeddings. */
  readonly lmHead: T;
  readonly layers: readonly LayerParams<T>[];
}

export function mapMlp<A, B>(p: MlpParams<A>, f: (a: A) => B): MlpParams<B> {
  return { gate: f(p.gate), up: f(p.up), down: f(p.down) };
}

function mapOptional<A, B>(a: A | undefined, f: (a: A) => B): B | undefined {
  return a === undefined ? undefined : f(a);
}

function mapMla<A, B>(p: MlaParams<A>, f: (a: A) => B): MlaParams<B> {
  return {
    kind: 'mla',
    q: mapOptional(p.q, f),
    qA: mapOptional(p.qA, f),
    qANorm: mapOptional(p.qANorm, f),
    qB: mapOptional(p.qB, f),
    kvA: f(p.kvA),
    kvANorm: f(p.kvANorm),
    kvB: f(p.kvB),
    o: f(p.o),
  };
}

function mapAttention<A, B>(p: SelfAttentionParams<A>, f: (a: A) => B): SelfAttentionParams<B> {
  if (isMla(p)) return mapMla(p, f);
  return {
    q: f(p.q),
    k: f(p.k),
    v: f(p.v),
    o: f(p.o),
    qBias: mapOptional(p.qBias, f),
    kBias: mapOptional(p.kBias, f),
    vBias: mapOptional(p.vBias, f),
    oBias: mapOptional(p.oBias, f),
    qNorm: mapOptional(p.qNorm, f),
    kNorm: mapOptional(p.kNorm, f),
  };
}

function mapLayer<A, B>(p: LayerParams<A>, f: (a: A) => B): LayerParams<B> {
  const common = {
    index: p.index,
    inputNorm: f(p.inputNorm),
    postAttentionNorm: f(p.postAttentionNorm),
    attention: mapAttention(p.attention, f),
  };
  if (p.kind === 'dense') return { kind: 'dense', ...common, mlp: mapMlp(p.mlp, f) };
  return {
    kind: 'moe',
    ...common,
    router: f(p.router),
    routerBias: mapOptional(p.routerBias, f),
    sharedExpert: mapOptional(p.sharedExpert, (m) => mapMlp(m, f)),
    sharedExpertGate: mapOptional(p.sharedExpertGate, f),
  };
}

/** The same structure with every leaf mapped (specs → tensors, tensors → backend-resident tensors). */
export function mapAttentionSide<A, B>(p: AttentionSideParams<A>, f: (a: A) => B): AttentionSideParams<B> {
  const embedTokens = f(p.embedTokens);
  return {
    embedTokens,
    finalNorm: f(p.finalNorm),
    lmHead: p.lmHead === p.embedTokens ? embedTokens : f(p.lmHead),
    layers: p.layers.map((layer) => mapLayer(layer, f)),
  };
}

/** Every leaf, in structure order, without duplicates (a tied LM head is the embedding). */
export function attentionSideLeaves<T>(p: AttentionSideParams<T>): T[] {
  const leaves: T[] = [];
  mapAttentionSide(p, (leaf) => {
    leaves.push(leaf);
    return leaf;
  });
  return [...new Set(leaves)];
}
