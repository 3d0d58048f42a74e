// A demo "back" rank: RMSNorm then a matmul on the rows it receives, sent back to their sender.
import { type BackendName, type Tensor, createBackend, defineActor } from '@asap/runtime';
import { demoWeights } from './weights.ts';

export interface BackConfig {
  readonly dim: number;
  readonly weightSeed: number;
  readonly backend: BackendName;
}

export default defineActor<BackConfig, { rows: number; flops: number }>(async (ctx, config) => {
  const backend = await createBackend(config.backend);
  const { norm, weight } = demoWeights(config.dim, config.weightSeed);
  const w = backend.resident(weight);
  const d = config.dim;
  let rows = 0;
  let flops = 0;
  return {
    async onMessage(from, message) {
      if (message.kind === 'ping') {
        await ctx.send(from, { kind: 'pong', meta: message.meta });
        return;
      }
      if (message.kind !== 'rows') throw new Error(`demo back: unexpected message "${message.kind}" from ${from}`);
      const [x] = message.tensors as Tensor[];
      const m = x.rowCount;
      const opFlops = 2 * m * d * d + 4 * m * d;
      const y = await ctx.device.run({ name: 'rmsnorm+matmul', flops: opFlops, bytes: 4 * (2 * m * d + d * d) }, () =>
        backend.matmul(backend.rmsNorm(x, norm, 1e-6), w),
      );
      rows += m;
      flops += opFlops;
      await ctx.send(from, { kind: 'done', meta: message.meta, tensors: [y] });
    },
    stats: () => ({ rows, flops }),
    stop: () => backend.dispose(),
  };
});
