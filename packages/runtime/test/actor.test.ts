import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstValueFrom, take, toArray } from 'rxjs';
import {
  type ActorSpec,
  DRIVER,
  type Host,
  defineActor,
  SeededRandom,
  startSimHost,
  startThreadsHost,
} from '../src/index.ts';
import { isActorDefinition } from '../src/actor/definition.ts';
import { checkActorId } from '../src/actor/ids.ts';

const ECHO = new URL('./actors/echo.ts', import.meta.url);
const FORWARD = new URL('./actors/forward.ts', import.meta.url);
const BARRIER = new URL('./actors/barrier.ts', import.meta.url);
const SILENT = new URL('./actors/silent.ts', import.meta.url);

test('actor ids: short printable names; "driver" is reserved', () => {
  checkActorId('expert-3', 'test');
  assert.throws(() => checkActorId(DRIVER, 'spec'), /reserved for the host's driver endpoint/);
  assert.throws(() => checkActorId('a b', 'spec'), /actor id "a b" must be/);
  assert.throws(() => checkActorId('', 'spec'), /must be 1-64 characters/);
});

test('defineActor marks a setup function; anything else is refused', () => {
  const definition = defineActor(() => ({}));
  assert.ok(isActorDefinition(definition));
  assert.ok(!isActorDefinition({ setup: () => ({}) }));
  assert.throws(() => defineActor(42 as never), /setup must be a function/);
});

test('SeededRandom: deterministic, streams independent, uniform in [0, 1)', () => {
  const a = new SeededRandom(42);
  const b = new SeededRandom(42);
  const c = new SeededRandom(42, 1);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.next()));
  assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c.next()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
});

async function randomDraws(host: Host): Promise<unknown[]> {
  const replies = firstValueFrom(host.inbox$.pipe(take(2), toArray()));
  await host.send('echo-0', { kind: 'random' });
  await host.send('echo-1', { kind: 'random' });
  const got = await replies;
  return ['echo-0', 'echo-1'].map((id) => got.find((e) => e.from === id)?.message.meta);
}

test('ctx.random and ctx.now: same draws per (seed, actor) under both hosts; now counts from the host start', { timeout: 60_000 }, async () => {
  const actors: ActorSpec[] = [
    { id: 'echo-0', module: ECHO },
    { id: 'echo-1', module: ECHO },
  ];
  const threads = await startThreadsHost({ actors, seed: 5 });
  let fromThreads: unknown[];
  let pongAt: number;
  try {
    fromThreads = await randomDraws(threads);
    const pong = firstValueFrom(threads.inboxFrom('echo-0'));
    await threads.send('echo-0', { kind: 'ping' });
    pongAt = ((await pong).meta as { at: number }).at;
    assert.ok(pongAt > 0 && pongAt <= threads.now(), `threads: a worker's now() is on the host's clock (${pongAt} vs ${threads.now()})`);
  } finally {
    await threads.shutdown();
  }
  const sim = await startSimHost({ actors, seed: 5 });
  try {
    assert.deepEqual(await randomDraws(sim), fromThreads);
    const [a, b] = fromThreads as number[][];
    assert.notDeepEqual(a, b, 'each actor has its own stream');
  } finally {
    await sim.shutdown();
  }
});

test('stream style: rankBarrier over inboxFrom pairs one message per rank, in rank order', { timeout: 30_000 }, async () => {
  const actors: ActorSpec[] = [
    { id: 'rank-0', module: FORWARD, config: { to: 'barrier' } },
    { id: 'rank-1', module: FORWARD, config: { to: 'barrier' } },
    { id: 'barrier', module: BARRIER, config: { ranks: ['rank-0', 'rank-1'] } },
  ];
  const host = await startSimHost({ actors });
  try {
    const rounds = firstValueFrom(host.inboxFrom('barrier').pipe(take(2), toArray()));
    await host.send('rank-0', { kind: 'x', meta: 1 });
    await host.send('rank-0', { kind: 'x', meta: 2 });
    await host.idle();
    await host.send('rank-1', { kind: 'x', meta: 'a' });
    await host.send('rank-1', { kind: 'x', meta: 'b' });
    assert.deepEqual((await rounds).map((m) => m.meta), [[1, 'a'], [2, 'b']]);
    const crash = firstValueFrom(host.inbox$).catch((error: unknown) => error);
    await host.send('rank-0', { kind: 'poison' });
    await host.send('rank-1', { kind: 'x' });
    assert.match(String(await crash), /actor "barrier" crashed: poisoned round/, 'an error inside run$ is a crash');
  } finally {
    await host.shutdown();
  }
});

test('a message nobody handles is a crash with a clear message, not a silent loss', { timeout: 30_000 }, async () => {
  const host = await startSimHost({ actors: [{ id: 'silent', module: SILENT }] });
  try {
    await host.send('silent', { kind: 'hello' });
    await host.idle();
    assert.match(String(host.failure), /actor "silent" crashed: message "hello" from "driver" arrived, but the actor has no onMessage/);
  } finally {
    await host.shutdown();
  }
});
