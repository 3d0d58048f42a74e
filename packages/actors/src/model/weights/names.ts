import type { ModelConfig } from '../config/model-config.ts';
import {
  attentionSideLeaves,
  type AttentionSideParams,
  type LayerParams,
  type MlaParams,
  type MlpParams,
  type SelfAttentionParams,
  type TensorSpec,
} from './params.ts';

// Hugging Face weight names and the shapes the config implies, per architecture. Linear weights are
// [out_features, in_features].

function spec(name: string, ...shape: number[]): TensorSpec {
  return { name, shape };
}

function mlpSpecs(prefix: string, hidden: number, intermediate: number, mixtralNames = false): MlpParams<TensorSpec> {
  const [gate, up, down] = mixtralNames ? ['w1', 'w3', 'w2'] : ['gate_proj', 'up_proj', 'down_proj'];
  return {
    gate: spec(`${prefix}.${gate}.weight`, intermediate, hidden),
    up: spec(`${prefix}.${up}.weight`, intermediate, hidden),
    down: spec(`${prefix}.${down}.weight`, hidden, intermediate),
  };
}

function mlaSpecs(config: ModelConfig, mla: NonNullable<ModelConfig['mla']>, p: string): MlaParams<TensorSpec> {
  const hidden = config.hiddenSize;
  const heads = config.numHeads;
  const qOut = heads * (mla.qkNopeHeadDim + mla.qkRopeHeadDim);
  const q =
    mla.qLoraRank === null
      ? { q: spec(`${p}.q_proj.weight`, qOut, hidden) }
      : {
          qA: spec(`${p}.q_a_proj.weight`, mla.qLoraRank, hidden),
          qANorm: spec(`${p}.q_a_layernorm.weight`, mla.qLoraRank),
          qB: spec(`${p}.q_b_proj.weight`, qOut, mla.qLoraRank),
        };
  return {
    kind: 'mla',
    ...q,
    kvA: spec(`${p}.kv_a_proj_with_mqa.weight`, mla.kvLoraRank + mla.qkRopeHeadDim, hidden),
    kvANorm: spec(`${p}.kv_a_layernorm.weight`, mla.kvLoraRank),
    kvB: spec(`${p}.kv_b_proj.weight`, heads * (mla.qkNopeHeadDim + mla.vHeadDim), mla.kvLoraRank),
    o: spec(`${p}.o_proj.weight`, hidden, heads * mla.vHeadDim),
  };
}

function attentionSpecs(config: ModelConfig, layer: number): SelfAttentionParams<TensorSpec> {
  const p = `model.layers.${layer}.self_attn`;
  if (config.mla) return mlaSpecs(config, config.mla, p);
  const qOut = config.numHeads * config.headDim;
  const kvOut = config.numKvHeads * config.headDim;
  const hidden = config.hiddenSize;
  return {
    q: spec(`${p}.q_proj.weight`, qOut, hidden),
    k: spec(`${p}.k_proj.weight`, kvOut, hidden),
    v: spec(`${p}.v_proj.weight`, kvOut, hidden),
    o: spec(`${p}.o_proj.weight`, hidden, qOut),
    ...(config.qkvBias && {
      qBias: spec(`${p}.q_proj.bias`, qOut),
      kBias: spec(`${p}.k_proj.bias`, kvOut),
      vBias: spec(`${p}.v_proj.bias`, kvOut),
    }),
    ...(config.oBias && { oBias: spec(`${p}.o_proj.bias`, hidden) }),
    ...(config.qkNorm && {
      qNorm: spec(`${p}.q_norm.weight`, config.headDim),
      kNorm: spec(`${p}.k_norm.weight`, config.headDim),
    }),
  };
}

/** Where a layer's MLP block lives: Mixtral calls it block_sparse_moe, Qwen mlp. */
function mlpPrefix(config: ModelConfig, layer: number): string {
  return `model.layers.${layer}.${config.arch === 'mixtral' ? 'block_sparse_moe' : 'mlp'}`;
}

function layerSpecs(config: ModelConfig, layer: number): LayerParams<TensorSpec> {
  const hidden = config.hiddenSize;
  const common = {
    index: layer,
    inputNorm: spec(`model.layers.${layer}.input_layernorm.weight`, hidden),
    postAttentionNorm: spec(`model.layers.${layer}.post_attention_layernorm.weight`, hidden),
    attention: attentionSpecs(config, layer),
  };
  const prefix = mlpPrefix(config, layer);
  if (config.layerKinds[layer] === 'dense') {
    return { kind: 'dense', ...common, mlp: mlpSpecs(prefix, hidden, config.denseIntermediateSize) };
  }
  const shared = config.sharedExpertIntermediateSize;
  const router = spec(`${prefix}.gate.weight`, config.numExperts, hidden);
  if (config.groupRouting) {
    // deepseek_v3: the router's choice-only bias, and ungated shared experts (n_shared_experts fused in one MLP).
    return {
      kind: 'moe',
      ...common,
      router,
      routerBias: spec(`${prefix}.gate.e_score_correction_bias`, config.numExperts),
      ...(shared > 0 && { sharedExpert: mlpSpecs(`${prefix}.shared_experts`, hidden, shared) }),
    };
  }
  return {
    kind: 'moe',
    ...common,
    router,
    ...(shared > 0 && {
      sharedExpert: mlpSpecs(`${prefix}.shared_expert`, hidden, shared),
      sharedExpertGate: spec(`${prefix}.shared_expert_gate.weight`, 1, hidden),
    }),
  };
}

/** Names and shapes of everything but the routed experts. */
export function attentionSideSpecs(config: ModelConfig): AttentionSideParams<TensorSpec> {
  const embedTokens = spec('model.embed_tokens.weight', config.vocabSize, config.hiddenSize);
  return {
    embedTokens,
    finalNorm: spec('model.norm.weight', config.hiddenSize),
    lmHead: config.tieWordEmbeddings ? embedTokens : spec('lm_head.weight', config.vocabSize, config.hiddenSize),
    layers: Array.from({ length: config.numLayers }, (_, i) => layerSpecs(config, i)),
  };
}

/** Names and shapes of routed expert `expert` of MoE layer `layer`. */
export function expertSpecs(config: ModelConfig, layer: number, expert: number): MlpParams<TensorSpec> {
  return mlpSpecs(`${mlpPrefix(config, layer)}.experts.${expert}`, config.hiddenSize, config.expertIntermediateSize, config.arch === 'mixtral');
}

/** Every tensor the config implies (attention side and all routed experts), sorted by name. */
export function checkpointSpecs(config: ModelConfig): TensorSpec[] {
  const specs = attentionSideLeaves(attentionSideSpecs(config));
  config.layerKinds.forEach((kind, layer) => {
    if (kind !== 'moe') return;
    for (let e = 0; e < config.numExperts; e++) {
      const m = expertSpecs(config, layer, e);
      specs.push(m.gate, m.up, m.down);
    }
  });
  return specs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
