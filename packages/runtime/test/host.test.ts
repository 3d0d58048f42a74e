import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstValueFrom, take, toArray } from 'rxjs';
import { type ActorSpec, type Host, type Tensor, startSimHost, startThreadsHost } from '../src/index.ts';
import { pipelineExpected, pipelineInput } from './actors/pipeline.ts';

const FRONT = new URL('./actors/front.ts', import.meta.url);
const BACK = new URL('./actors/back.ts', import.meta.url);
const DIM = 16;
const ROWS = 10;
const WEIGHT_SEED = 7;
const JOBS = 4;

function pipelineSpecs(): ActorSpec[] {
  const backs = ['back-0', 'back-1'];
  return [
    { id: 'front-0', module: FRONT, config: { backs, batchRows: 3 } },
    { id: 'front-1', module: FRONT, config: { backs, batchRows: 3 } },
    { id: 'back-0', module: BACK, config: { dim: DIM, seed: WEIGHT_SEED }, sendsTo: ['front-0', 'front-1'] },
    { id: 'back-1', module: BACK, config: { dim: DIM, seed: WEIGHT_SEED }, sendsTo: ['front-0', 'front-1'] },
  ];
}

const inputOf = (job: number): Tensor => pipelineInput(ROWS, DIM, 100 + job);

/** Driver code shared by both hosts: two jobs per front, results ordered by job. */
async function runPipeline(host: Host): Promise<Float32Array[]> {
  const results = firstValueFrom(host.inbox$.pipe(take(JOBS), toArray()));
  for (let job = 0; job < JOBS; job++) {
    await host.send(`front-${job % 2}`, { kind: 'work', meta: { job }, tensors: [inputOf(job)] });
  }
  const envelopes = await results;
  const out: Float32Array[] = [];
  for (const { from, message } of envelopes) {
    const { job } = message.meta as { job: number };
    assert.equal(message.kind, 'result');
    assert.equal(from, `front-${job % 2}`, 'a job comes back from the front it was sent to');
    out[job] = (message.tensors as Tensor[])[0].toF32();
  }
  return out;
}

async function checkStats(host: Host): Promise<void> {
  const backs = await Promise.all([host.stats('back-0'), host.stats('back-1')]);
  const rows = backs.map((s) => (s.custom as { rows: number }).rows);
  assert.equal(rows[0] + rows[1], JOBS * ROWS, 'every row was transformed once');
  const batchesPerJob = Math.ceil(ROWS / 3);
  assert.equal(backs[0].messagesIn + backs[1].messagesIn, JOBS * batchesPerJob);
  assert.equal(backs[0].deviceOps + backs[1].deviceOps, JOBS * batchesPerJob);
  const front = await host.stats('front-0');
  assert.deepEqual(front.custom, { jobs: JOBS / 2, batches: (JOBS / 2) * batchesPerJob });
  assert.equal(front.messagesIn, JOBS / 2 + (JOBS / 2) * batchesPerJob);
  assert.equal(front.bytesOut, (JOBS / 2) * ROWS * DIM * 4 * 2, 'rows out to backs plus results to the driver');
}

test('one actor module, both hosts: the front/back pipeline gives the oracle result bit for bit', { timeout: 120_000 }, async () => {
  const expected = await Promise.all(Array.from({ length: JOBS }, (_, job) => pipelineExpected(inputOf(job), WEIGHT_SEED)));

  const threads = await startThreadsHost({ actors: pipelineSpecs() });
  let fromThreads: Float32Array[];
  try {
    fromThreads = await runPipeline(threads);
    await checkStats(threads);
  } finally {
    await threads.shutdown();
  }

  const sim = await startSimHost({ actors: pipelineSpecs() });
  let fromSim: Float32Array[];
  try {
    fromSim = await runPipeline(sim);
    await checkStats(sim);
    assert.ok(sim.now() > 0, 'virtual time advanced');
  } finally {
    await sim.shutdown();
  }

  for (let job = 0; job < JOBS; job++) {
    assert.deepEqual(fromThreads[job], expected[job].toF32(), `threads host, job ${job}`);
    assert.deepEqual(fromSim[job], expected[job].toF32(), `sim host, job ${job}`);
  }
});

test('ctx.log reaches the host event stream under both hosts', { timeout: 60_000 }, async () => {
  for (const start of [startThreadsHost, startSimHost]) {
    const host = await start({ actors: pipelineSpecs() });
    const seen: string[] = [];
    host.events$.subscribe((e) => {
      if (e.event === 'dispatched') seen.push(`${e.actor}:${JSON.stringify(e.detail)}`);
    });
    try {
      await runPipeline(host);
    } finally {
      await host.shutdown();
    }
    const expected = ['front-0:{"job":0,"batches":4}', 'front-0:{"job":2,"batches":4}', 'front-1:{"job":1,"batches":4}', 'front-1:{"job":3,"batches":4}'];
    assert.deepEqual(seen.sort(), expected, host.kind);
  }
});

test('each actor has its own fixed-budget arena under both hosts; going past it is an error naming the actor', { timeout: 60_000 }, async () => {
  const ECHO = new URL('./actors/echo.ts', import.meta.url);
  for (const start of [startThreadsHost, startSimHost]) {
    const host = await start({ actors: [{ id: 'echo', module: ECHO, arenaBytes: 4096 }] });
    try {
      const replies = firstValueFrom(host.inbox$.pipe(take(3), toArray()));
      for (const floats of [512, 256, 512]) await host.send('echo', { kind: 'alloc', meta: floats });
      const metas = (await replies).map((e) => e.message.meta);
      assert.deepEqual(metas.slice(0, 2), [
        { used: 2048, budget: 4096 },
        { used: 3072, budget: 4096 },
      ]);
      assert.match((metas[2] as { error: string }).error, /arena "echo": cannot allocate 2048 bytes: 1024 of 4096 bytes free/);
      const stats = await host.stats('echo');
      assert.equal(stats.arenaUsedBytes, 3072);
      assert.equal(stats.arenaPeakBytes, 3072);
    } finally {
      await host.shutdown();
    }
  }
});
