// One loader for every rank kind: real weights (numerics on) or shapes only (numerics off).
import type { ActorContext, BackendName } from '@asap/runtime';
import { readModelConfig } from '../model/config/parse.ts';
import { checkpointWeightBytes } from '../model/config/weight-bytes.ts';
import type { PopularityOptions } from './expert-popularity.ts';
import { type RankCompute, RankModel } from './rank-model.ts';
import { ShapeModel } from './shape-model.ts';

export interface RankComputeSpec {
  readonly modelDir: string;
  readonly backend: BackendName;
  readonly attentionSide: boolean;
  readonly experts: readonly (readonly number[])[];
  /** Numerics off: no weights, routing from this popularity model. Absent: numerics on. */
  readonly shapesOnly?: PopularityOptions;
}

export async function loadRankCompute(ctx: ActorContext, spec: RankComputeSpec): Promise<RankCompute> {
  if (!spec.shapesOnly) return RankModel.load(spec);
  const config = await readModelConfig(spec.modelDir);
  return new ShapeModel(config, checkpointWeightBytes(config), spec.shapesOnly, () => ctx.random());
}
