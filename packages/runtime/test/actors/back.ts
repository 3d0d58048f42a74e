// A "back" rank: normalises the rows it gets and multiplies them by its weight with the js backend, then
// sends them back to whoever sent them.
import { Tensor, createBackend, defineActor } from '@asap/runtime';
import { pipelineWeights } from './pipeline.ts';

export interface BackConfig {
  readonly dim: number;
  readonly seed: number;
}

export default defineActor<BackConfig, { rows: number }>(async (ctx, config) => {
  const backend = await createBackend('js');
  const { norm, weight } = pipelineWeights(config.dim, config.seed);
  let rows = 0;
  return {
    async onMessage(from, message) {
      if (message.kind !== 'rows') throw new Error(`back: unexpected message "${message.kind}" from ${from}`);
      const [x] = message.tensors as Tensor[];
      const m = x.rowCount;
      const d = config.dim;
      const y = await ctx.device.run({ name: 'norm-matmul', flops: 2 * m * d * d + 4 * m * d, bytes: 4 * (2 * m * d + d * d) }, () =>
        backend.matmul(backend.rmsNorm(x, norm, 1e-6), weight),
      );
      rows += m;
      await ctx.send(from, { kind: 'done', meta: message.meta, tensors: [y] });
    },
    stats: () => ({ rows }),
  };
});
