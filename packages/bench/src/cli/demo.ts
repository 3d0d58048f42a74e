// asap demo: the main job until the engines exist. First the embedded default model is prefilled by the
// reference forward; then front and back actors exchange tensor rows
// (RMSNorm + matmul on the back ranks) under the threads host, then the same actor modules run under the
// sim host, calibrated from the threads run; the figures of both runs are printed and the results compared.
import { parseArgs } from 'node:util';
import { filter, firstValueFrom, map, take, tap, toArray } from 'rxjs';
import {
  type ActorSpec,
  type ActorStats,
  type BackendName,
  type Host,
  type Tensor,
  availableBackends,
  defaultBackend,
  rooflineCost,
  startSimHost,
  startThreadsHost,
} from '@asap/runtime';
import type { BackConfig } from '../demo/back.ts';
import type { FrontConfig, FrontStats } from '../demo/front.ts';
import { runModelPrefillDemo } from '../demo/model-prefill.ts';
import { demoInput } from '../demo/weights.ts';

const FRONT = new URL('../demo/front.ts', import.meta.url);
const BACK = new URL('../demo/back.ts', import.meta.url);
const WEIGHT_SEED = 7;

const USAGE = 'usage: asap demo [--fronts N] [--backs N] [--jobs N] [--rows N] [--dim N] [--batch N] [--pings N] [--backend js|wasm|native] (default: the fastest here)';

interface DemoOptions {
  readonly fronts: number;
  readonly backs: number;
  readonly jobs: number;
  readonly rows: number;
  readonly dim: number;
  readonly batch: number;
  readonly pings: number;
  readonly backend: BackendName;
}

interface Run {
  readonly startMs: number;
  readonly pingRttMs: number[];
  readonly jobLatencyMs: number[];
  readonly pipelineMs: number;
  readonly before: readonly ActorStats[];
  readonly after: readonly ActorStats[];
  readonly outputs: Float32Array[];
}

function positive(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer, got "${value}"\n${USAGE}`);
  return n;
}

function parse(args: string[]): DemoOptions {
  const { values } = parseArgs({
    args,
    options: {
      fronts: { type: 'string' },
      backs: { type: 'string' },
      jobs: { type: 'string' },
      rows: { type: 'string' },
      dim: { type: 'string' },
      batch: { type: 'string' },
      pings: { type: 'string' },
      backend: { type: 'string' },
    },
  });
  const backend = (values.backend ?? defaultBackend()) as BackendName;
  if (!availableBackends().includes(backend)) {
    throw new Error(`--backend must be one of ${availableBackends().join(', ')}, got "${values.backend}"`);
  }
  return {
    fronts: positive('fronts', values.fronts, 2),
    backs: positive('backs', values.backs, 2),
    jobs: positive('jobs', values.jobs, 8),
    rows: positive('rows', values.rows, 128),
    dim: positive('dim', values.dim, 128),
    batch: positive('batch', values.batch, 16),
    pings: positive('pings', values.pings, 200),
    backend,
  };
}

function specs(o: DemoOptions): ActorSpec[] {
  const fronts = Array.from({ length: o.fronts }, (_, i) => `front-${i}`);
  const backs = Array.from({ length: o.backs }, (_, i) => `back-${i}`);
  const front: FrontConfig = { backs, batchRows: o.batch };
  const back: BackConfig = { dim: o.dim, weightSeed: WEIGHT_SEED, backend: o.backend };
  return [
    ...fronts.map((id) => ({ id, module: FRONT, config: front })),
    ...backs.map((id) => ({ id, module: BACK, config: back, sendsTo: fronts })),
  ];
}

interface Jobs {
  readonly latencyMs: number[];
  readonly outputs: Float32Array[];
  readonly elapsedMs: number;
}

/** Sends `count` jobs round-robin over the fronts and waits for every result. */
async function runJobs(host: Host, o: DemoOptions, fronts: readonly string[], count: number): Promise<Jobs> {
  const sentAt: number[] = [];
  const latencyMs: number[] = [];
  const outputs: Float32Array[] = [];
  const results = firstValueFrom(
    host.inbox$.pipe(
      filter((e) => e.message.kind === 'result'),
      tap(({ message }) => {
        const { job } = message.meta as { job: number };
        latencyMs[job] = host.now() - sentAt[job];
        outputs[job] = (message.tensors as Tensor[])[0].toF32();
      }),
      take(count),
      toArray(),
    ),
  );
  const start = host.now();
  for (let job = 0; job < count; job++) {
    sentAt[job] = host.now();
    await host.send(fronts[job % fronts.length], { kind: 'work', meta: { job }, tensors: [demoInput(o.rows, o.dim, 1000 + job)] });
  }
  await results;
  return { latencyMs, outputs, elapsedMs: host.now() - start };
}

/** The driver: the same code against either host. */
async function exercise(host: Host, o: DemoOptions, startMs: number): Promise<Run> {
  const fronts = host.actors.filter((id) => id.startsWith('front-'));
  const pingsDone = firstValueFrom(
    host.inbox$.pipe(
      filter((e) => e.message.kind === 'pings-done'),
      take(fronts.length),
      map((e) => (e.message.meta as { rttMs: number[] }).rttMs),
      toArray(),
    ),
  );
  const perFront = Math.max(1, Math.round(o.pings / fronts.length));
  for (const id of fronts) await host.send(id, { kind: 'pings', meta: { count: perFront } });
  const pingRttMs = (await pingsDone).flat();

  await runJobs(host, o, fronts, fronts.length); // warm-up: first-call compilation is not part of the figures
  const before = await Promise.all(host.actors.map((id) => host.stats(id)));
  const jobs = await runJobs(host, o, fronts, o.jobs);
  const after = await Promise.all(host.actors.map((id) => host.stats(id)));
  return { startMs, pingRttMs, jobLatencyMs: jobs.latencyMs, pipelineMs: jobs.elapsedMs, before, after, outputs: jobs.outputs };
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const ms = (x: number): string => (x < 1 ? `${(x * 1000).toFixed(1)} µs` : `${x.toFixed(2)} ms`);
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(2);
const pad = (cells: readonly string[], widths: readonly number[]): string =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');

function report(run: Run, clock: string): string {
  const lines: string[] = [];
  const batchRtt = run.after.flatMap((s, i) =>
    s.id.startsWith('front-') ? (s.custom as FrontStats).batchRttMs.slice((run.before[i].custom as FrontStats).batchRttMs.length) : [],
  );
  const delta = run.after.map((s, i) => ({
    id: s.id,
    messagesIn: s.messagesIn - run.before[i].messagesIn,
    messagesOut: s.messagesOut - run.before[i].messagesOut,
    bytesIn: s.bytesIn - run.before[i].bytesIn,
    bytesOut: s.bytesOut - run.before[i].bytesOut,
    deviceOps: s.deviceOps - run.before[i].deviceOps,
    busyMs: s.deviceBusyMs - run.before[i].deviceBusyMs,
  }));
  const messages = delta.reduce((n, d) => n + d.messagesIn, 0);
  const bytes = delta.reduce((n, d) => n + d.bytesIn, 0);
  const seconds = run.pipelineMs / 1000;
  lines.push(`  ping round trip front→back→front, ${run.pingRttMs.length} pings: p50 ${ms(quantile(run.pingRttMs, 0.5))}  p99 ${ms(quantile(run.pingRttMs, 0.99))}`);
  lines.push(`  pipeline: ${run.jobLatencyMs.length} jobs in ${ms(run.pipelineMs)} ${clock}`);
  lines.push(`    job latency p50 ${ms(quantile(run.jobLatencyMs, 0.5))}  p99 ${ms(quantile(run.jobLatencyMs, 0.99))}`);
  lines.push(`    batch round trip (with compute) p50 ${ms(quantile(batchRtt, 0.5))}  p99 ${ms(quantile(batchRtt, 0.99))}`);
  lines.push(
    `    traffic between actors: ${messages} messages, ${mib(bytes)} MiB of rows → ` +
      `${Math.round(messages / seconds).toLocaleString('en-US')} msg/s, ${(bytes / 2 ** 20 / seconds).toFixed(1)} MiB/s`,
  );
  const widths = [9, 8, 9, 7, 8, 10, 9, 6];
  lines.push(`    ${pad(['actor', 'msgs in', 'msgs out', 'MiB in', 'MiB out', 'device ops', 'busy ms', 'busy %'], widths)}`);
  for (const d of delta) {
    const cells = [d.id, String(d.messagesIn), String(d.messagesOut), mib(d.bytesIn), mib(d.bytesOut), String(d.deviceOps), d.busyMs.toFixed(1), ((100 * d.busyMs) / run.pipelineMs).toFixed(0)];
    lines.push(`    ${pad(cells, widths)}`);
  }
  return lines.join('\n');
}

/** GFLOP/s the back ranks reached in the threads run: the sim's device cost model. */
function measuredGflops(run: Run): number {
  let flops = 0;
  let busy = 0;
  run.after.forEach((s, i) => {
    const custom = s.custom as { flops?: number } | undefined;
    const before = run.before[i].custom as { flops?: number } | undefined;
    if (custom?.flops === undefined) return;
    flops += custom.flops - (before?.flops ?? 0);
    busy += s.deviceBusyMs - run.before[i].deviceBusyMs;
  });
  return flops / (busy * 1e6);
}

export async function run(args: string[]): Promise<void> {
  const o = parse(args);
  const out = (text: string) => process.stdout.write(`${text}\n`);
  await runModelPrefillDemo(o.backend, [16, 128, 512], out);
  out(
    `\n`+
    `asap demo: ${o.fronts} front + ${o.backs} back actors; ${o.jobs} jobs of ${o.rows}×${o.dim} f32 rows in batches of ${o.batch}; ` +
      `back ranks run RMSNorm + matmul on the ${o.backend} backend`,
  );

  let t = performance.now();
  const threads = await startThreadsHost({ actors: specs(o), ringBytes: 4 << 20 });
  let threadsRun: Run;
  try {
    threadsRun = await exercise(threads, o, performance.now() - t);
  } finally {
    await threads.shutdown();
  }
  out(`\nthreads host: one worker per actor, shared-memory rings (${threadsRun.startMs.toFixed(0)} ms to start ${threads.actors.length} workers)`);
  out(report(threadsRun, 'wall clock'));

  const gflops = measuredGflops(threadsRun);
  const latencyMs = quantile(threadsRun.pingRttMs, 0.5) / 2;
  t = performance.now();
  const sim = await startSimHost({
    actors: specs(o),
    ringBytes: 4 << 20,
    deviceCost: rooflineCost({ gflops, gbps: 1000 }),
    link: { latencyMs, gbps: 10 },
  });
  let simRun: Run;
  try {
    simRun = await exercise(sim, o, performance.now() - t);
  } finally {
    await sim.shutdown();
  }
  const simWall = performance.now() - t;
  out(
    `\nsim host: the same actor modules in one thread on virtual time; devices at the measured ${gflops.toFixed(2)} GFLOP/s, ` +
      `links ${ms(latencyMs)} + bytes / 10 GB/s (${sim.eventsRun} events in ${simWall.toFixed(0)} ms of wall time)`,
  );
  out(report(simRun, 'virtual time'));

  const identical = threadsRun.outputs.every((a, job) => {
    const b = simRun.outputs[job];
    return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
  });
  out(`\nresults: ${o.jobs} jobs ${identical ? 'identical bit for bit' : 'DIFFER'} under the two hosts`);
  if (!identical) throw new Error('demo: the threads and sim hosts gave different results');
}
