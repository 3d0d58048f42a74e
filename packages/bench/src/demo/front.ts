// A demo "front" rank: splits each job's rows into batches over the back ranks, reassembles the results in
// row order for the driver, and measures round trips to the back ranks.
import { DRIVER, Tensor, defineActor } from '@asap/runtime';

export interface FrontConfig {
  readonly backs: readonly string[];
  readonly batchRows: number;
}

interface BatchMeta {
  readonly job: number;
  readonly start: number;
  readonly sentAt: number;
}

interface Job {
  readonly output: Tensor;
  remaining: number;
}

export interface FrontStats {
  readonly batches: number;
  /** Round trip of each batch (send → transformed rows back), ms. */
  readonly batchRttMs: number[];
}

export default defineActor<FrontConfig, FrontStats>((ctx, config) => {
  const jobs = new Map<number, Job>();
  const batchRttMs: number[] = [];
  const pingRttMs: number[] = [];
  let pingsLeft = 0;
  let batches = 0;

  const ping = (i: number) => ctx.send(config.backs[i % config.backs.length], { kind: 'ping', meta: { i, sentAt: ctx.now() } });

  return {
    async onMessage(from, message) {
      switch (message.kind) {
        case 'pings': {
          pingsLeft = (message.meta as { count: number }).count;
          pingRttMs.length = 0;
          await ping(0);
          return;
        }
        case 'pong': {
          const { i, sentAt } = message.meta as { i: number; sentAt: number };
          pingRttMs.push(ctx.now() - sentAt);
          if (--pingsLeft > 0) await ping(i + 1);
          else await ctx.send(DRIVER, { kind: 'pings-done', meta: { rttMs: pingRttMs } });
          return;
        }
        case 'work': {
          const [input] = message.tensors as Tensor[];
          const { job } = message.meta as { job: number };
          const count = Math.ceil(input.rowCount / config.batchRows);
          jobs.set(job, { output: Tensor.zeros(input.shape), remaining: count });
          for (let b = 0; b < count; b++) {
            const start = b * config.batchRows;
            const rows = input.rows(start, Math.min(input.rowCount, start + config.batchRows));
            const meta: BatchMeta = { job, start, sentAt: ctx.now() };
            batches++;
            await ctx.send(config.backs[b % config.backs.length], { kind: 'rows', meta, tensors: [rows] });
          }
          return;
        }
        case 'done': {
          const { job, start, sentAt } = message.meta as BatchMeta;
          batchRttMs.push(ctx.now() - sentAt);
          const state = jobs.get(job);
          if (!state) throw new Error(`demo front: rows for unknown job ${job}`);
          const [y] = message.tensors as Tensor[];
          (state.output.data as Float32Array).set(y.data as Float32Array, start * state.output.rowSize);
          if (--state.remaining === 0) {
            jobs.delete(job);
            await ctx.send(DRIVER, { kind: 'result', meta: { job }, tensors: [state.output] });
          }
          return;
        }
        default:
          throw new Error(`demo front: unexpected message "${message.kind}" from ${from}`);
      }
    },
    stats: () => ({ batches, batchRttMs }),
  };
});
