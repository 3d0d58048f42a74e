// Where sweep points run. Sim-host points are independent single-threaded runs: a piscina pool runs one
// per core. Threads-host points already use a worker per rank, so they run one after another here.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { type PointResult, type PointTask, runPoint } from './point.ts';

export interface PointRunner {
  run(task: PointTask): Promise<PointResult>;
  close(): Promise<void>;
}

function sequentialRunner(): PointRunner {
  let queue: Promise<unknown> = Promise.resolve();
  return {
    run(task) {
      const next = queue.then(() => runPoint(task));
      queue = next.catch(() => {});
      return next;
    },
    close: async () => {
      await queue;
    },
  };
}

function poolRunner(threads: number): PointRunner {
  const pool = new Piscina<PointTask, PointResult>({
    filename: new URL('./point-worker.mjs', import.meta.url).href,
    maxThreads: threads,
    minThreads: 0,
    // Points are async (virtual time turns over setImmediate): a worker must not park in Atomics.wait.
    atomics: 'disabled',
    // A sim run allocates a few short-lived objects per event: a larger young generation (as
    // `node --max-semi-space-size=64` gives the main thread) spends ≈ 20% less time in the collector.
    resourceLimits: { maxYoungGenerationSizeMb: 192 },
  });
  return { run: (task) => pool.run(task), close: () => pool.destroy() };
}

/** A pool for sim-host points when there is more than one core, else (and for threads) one at a time. */
export function pointRunner(host: PointTask['setup']['host'], threads = availableParallelism()): PointRunner {
  return host === 'sim' && threads > 1 ? poolRunner(threads) : sequentialRunner();
}
