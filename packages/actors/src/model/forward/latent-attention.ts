import type { Backend, Tensor } from '@asap/runtime';
import type { MlaConfig } from '../config/model-config.ts';
import type { MoeModel } from '../weights/model.ts';
import type { MlaParams } from '../weights/params.ts';
import type { LayerKv } from './kv-cache.ts';
import { expandHeads, ropeFirst } from './mla-layout.ts';
import { rotaryParams, yarnMscale } from './rotary.ts';

/** q·k scale: 1/sqrt(qk_head_dim), times YaRN's mscale(mscale_all_dim)² when RoPE is scaled (transformers). */
function softmaxScale(model: MoeModel, mla: MlaConfig): number {
  const s = model.config.ropeScaling;
  const base = 1 / Math.sqrt(mla.qkNopeHeadDim + mla.qkRopeHeadDim);
  if (!s || !s.mscaleAllDim) return base;
  const m = yarnMscale(s.factor, s.mscaleAllDim);
  return base * m * m;
}

/**
 * Multi-head latent attention over the chunk's rows with the request's cache. The cache keeps what a decode
 * engine needs (DeepSeek's own serving form): per position the compressed latent after kv_a_layernorm
 * (`kv.values`, kvLoraRank wide) and the shared RoPE key after RoPE (`kv.keys`, qkRopeHeadDim wide, pairs
 * de-interleaved). Prefill expands every held position's latent through kv_b_proj into per-head keys and
 * values and runs causal attention with qk_head_dim-wide keys and v_head_dim-wide values.
 */
export function latentAttention(backend: Backend, model: MoeModel, p: MlaParams<Tensor>, x: Tensor, kv: LayerKv): Tensor {
  const c = model.config;
  const mla = c.mla!;
  const { kvLoraRank: rank, qkNopeHeadDim: nope, qkRopeHeadDim: rope, vHeadDim: value } = mla;
  const heads = c.numHeads;
  const rows = x.rowCount;
  const start = kv.length;
  const positions = new Int32Array(rows);
  for (let i = 0; i < rows; i++) positions[i] = start + i;
  const rotary = rotaryParams(c, rope);

  const qRaw = p.q
    ? backend.matmul(x, p.q)
    : backend.matmul(backend.rmsNorm(backend.matmul(x, p.qA!), p.qANorm!, c.rmsNormEps), p.qB!);
  const q = ropeFirst(qRaw, heads, nope, rope, mla.ropeInterleave);
  backend.rope(q, { numHeads: heads, headDim: rope + nope, rotaryDim: rope, positions, ...rotary }, q);

  // kv_a_proj_with_mqa's rows are the latent's, then the RoPE key's: two matmuls on row views, no copy.
  const slot = kv.reserve(rows);
  backend.rmsNorm(backend.matmul(x, p.kvA.rows(0, rank)), p.kvANorm, c.rmsNormEps, slot.values);
  const ropeKey = ropeFirst(backend.matmul(x, p.kvA.rows(rank, rank + rope)), 1, 0, rope, mla.ropeInterleave);
  backend.rope(ropeKey, { numHeads: 1, headDim: rope, positions, ...rotary }, slot.keys);
  kv.commit(rows);

  const { keys, values } = expandHeads(backend.matmul(kv.filledValues, p.kvB), kv.filledKeys, heads, nope, value);
  const attended = backend.attention(q, keys, values, {
    numHeads: heads,
    numKvHeads: heads,
    headDim: rope + nope,
    valueHeadDim: value,
    scale: softmaxScale(model, mla),
    queryOffset: start,
  });
  return backend.matmul(attended, p.o);
}
