// `asap bench workers`: how long the threads host takes to start its workers (spawn, load the runtime, run
// an empty actor's setup) and to shut them down. `--json` prints one JSON object.
import { startThreadsHost } from '@asap/runtime';
import { formatTable } from '../report/table.ts';

const ACTORS = {
  js: new URL('./idle-actor.mjs', import.meta.url).href,
  ts: new URL('./idle-actor-ts.ts', import.meta.url).href,
} as const;
const USAGE = 'usage: asap bench workers [--workers 1,4] [--repeat 3] [--json]';

interface Row {
  /** js: a built actor module (no tsx in the worker); ts: a TypeScript one (the worker registers tsx). */
  readonly actor: keyof typeof ACTORS;
  readonly workers: number;
  /** Best and every repeat: from startThreadsHost() until every actor runs. */
  readonly startMs: number;
  readonly allStartMs: number[];
  readonly perWorkerMs: number;
  readonly shutdownMs: number;
}

function positiveList(name: string, text: string): number[] {
  return text.split(',').map((t) => {
    const n = Number(t);
    if (!Number.isInteger(n) || n < 1) throw new Error(`bench workers: ${name} must list positive integers, got "${text}"\n${USAGE}`);
    return n;
  });
}

async function measure(actor: keyof typeof ACTORS, workers: number, repeat: number): Promise<Row> {
  const allStartMs: number[] = [];
  let shutdownMs = Infinity;
  for (let r = 0; r < repeat; r++) {
    const actors = Array.from({ length: workers }, (_, i) => ({ id: `idle-${i}`, module: ACTORS[actor] }));
    const start = performance.now();
    const host = await startThreadsHost({ actors });
    allStartMs.push(performance.now() - start);
    const stop = performance.now();
    await host.shutdown();
    shutdownMs = Math.min(shutdownMs, performance.now() - stop);
  }
  const startMs = Math.min(...allStartMs);
  return { actor, workers, startMs, allStartMs, perWorkerMs: startMs / workers, shutdownMs };
}

export async function run(args: string[]): Promise<void> {
  let counts = [1, 4];
  let repeat = 3;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--workers' && args[i + 1] !== undefined) counts = positiveList(a, args[++i]);
    else if (a === '--repeat' && args[i + 1] !== undefined) repeat = positiveList(a, args[++i])[0];
    else throw new Error(`bench workers: unknown option ${a}\n${USAGE}`);
  }
  const rows: Row[] = [];
  for (const actor of Object.keys(ACTORS) as Array<keyof typeof ACTORS>) {
    for (const workers of counts) rows.push(await measure(actor, workers, repeat));
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ rows })}\n`);
    return;
  }
  process.stdout.write(`threads host start (best of ${repeat}; workers start in parallel on ${(await import('node:os')).availableParallelism()} cores)\n`);
  process.stdout.write(
    `${formatTable(
      ['actor', 'workers', 'start ms', 'runs', 'ms per worker', 'shutdown ms'],
      rows.map((r) => [r.actor, String(r.workers), r.startMs.toFixed(0), r.allStartMs.map((m) => m.toFixed(0)).join('/'), r.perWorkerMs.toFixed(0), r.shutdownMs.toFixed(0)]),
    )}\n`,
  );
}
