import type { ModelConfig, YarnScaling } from '../config/model-config.ts';

const f = Math.fround;

/** What a RoPE call needs beyond positions and shapes: theta, or YaRN's frequencies and cos/sin scaling. */
export interface RotaryParams {
  readonly theta: number;
  readonly inverseFrequencies?: Float32Array;
  readonly attentionScaling?: number;
}

/** YaRN's magnitude correction (transformers `get_mscale` / `yarn_get_mscale`). */
export function yarnMscale(scale: number, mscale = 1): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

/**
 * YaRN inverse frequencies and attention factor over `dim` rotary dims, step for step as transformers'
 * `_compute_yarn_parameters` computes them (f32 tensors, double scalars).
 */
function yarn(dim: number, base: number, s: YarnScaling): Required<RotaryParams> {
  const correctionDim = (rotations: number) =>
    (dim * Math.log(s.originalMaxPositionEmbeddings / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
  let low = correctionDim(s.betaFast);
  let high = correctionDim(s.betaSlow);
  if (s.truncate) [low, high] = [Math.floor(low), Math.ceil(high)];
  low = Math.max(low, 0);
  high = Math.min(high, dim - 1);
  if (low === high) high += 0.001;
  const half = dim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const pos = f(Math.pow(base, f((2 * i) / dim)));
    const extrapolation = f(1 / pos);
    const interpolation = f(1 / f(s.factor * pos));
    const ramp = Math.min(1, Math.max(0, f(f(i - low) / f(high - low))));
    const keep = f(1 - ramp); // the share of the unscaled (extrapolated) frequency
    inv[i] = f(f(interpolation * f(1 - keep)) + f(extrapolation * keep));
  }
  const attentionScaling =
    s.attentionFactor ??
    (s.mscale && s.mscaleAllDim ? yarnMscale(s.factor, s.mscale) / yarnMscale(s.factor, s.mscaleAllDim) : yarnMscale(s.factor));
  return { theta: base, inverseFrequencies: inv, attentionScaling };
}

const cached = new WeakMap<ModelConfig, RotaryParams>();

/** The model's RoPE parameters over `dim` rotary dims (computed once per config). */
export function rotaryParams(config: ModelConfig, dim: number): RotaryParams {
  let params = cached.get(config);
  if (!params) {
    params = config.ropeScaling ? yarn(dim, config.ropeTheta, config.ropeScaling) : { theta: config.ropeTheta };
    cached.set(config, params);
  }
  return params;
}
