// A "front" rank: splits the driver's rows into batches, spreads them over the back ranks, reassembles the
// transformed rows in row order and returns them to the driver.
import { DRIVER, Tensor, defineActor } from '@asap/runtime';

export interface FrontConfig {
  readonly backs: readonly string[];
  /** Rows per message to a back rank. */
  readonly batchRows: number;
}

interface BatchMeta {
  readonly job: number;
  readonly start: number;
}

interface Job {
  readonly output: Tensor;
  remaining: number;
}

export default defineActor<FrontConfig, { jobs: number; batches: number }>((ctx, config) => {
  const jobs = new Map<number, Job>();
  let done = 0;
  let batches = 0;
  return {
    async onMessage(from, message) {
      if (message.kind === 'work' && from === DRIVER) {
        const [input] = message.tensors as Tensor[];
        const job = (message.meta as { job: number }).job;
        const count = Math.ceil(input.rowCount / config.batchRows);
        jobs.set(job, { output: Tensor.zeros(input.shape), remaining: count });
        for (let b = 0; b < count; b++) {
          const start = b * config.batchRows;
          const rows = input.rows(start, Math.min(input.rowCount, start + config.batchRows));
          const meta: BatchMeta = { job, start };
          batches++;
          await ctx.send(config.backs[b % config.backs.length], { kind: 'rows', meta, tensors: [rows] });
        }
        ctx.log('dispatched', { job, batches: count });
        return;
      }
      if (message.kind === 'done') {
        const { job, start } = message.meta as BatchMeta;
        const state = jobs.get(job);
        if (!state) throw new Error(`front: result for unknown job ${job}`);
        const [y] = message.tensors as Tensor[];
        (state.output.data as Float32Array).set(y.data as Float32Array, start * state.output.rowSize);
        if (--state.remaining === 0) {
          jobs.delete(job);
          done++;
          await ctx.send(DRIVER, { kind: 'result', meta: { job, at: ctx.now() }, tensors: [state.output] });
        }
        return;
      }
      throw new Error(`front: unexpected message "${message.kind}" from ${from}`);
    },
    stats: () => ({ jobs: done, batches }),
  };
});
