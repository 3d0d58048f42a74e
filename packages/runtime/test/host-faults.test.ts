import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { firstValueFrom } from 'rxjs';
import {
  ActorCrashedError,
  type ActorSpec,
  ActorStoppedError,
  type Host,
  Tensor,
  startSimHost,
  startThreadsHost,
} from '../src/index.ts';

const actor = (name: string): URL => new URL(`./actors/${name}.ts`, import.meta.url);
const hosts = { threads: startThreadsHost, sim: startSimHost } as const;

/** Runs a test script in a child process (no test runner around it); its exit code, output and wall time. */
async function child(script: string, args: string[] = [], timeoutMs = 30_000): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const start = Date.now();
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url)), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const killer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  clearTimeout(killer);
  return { code, out, err, ms: Date.now() - start };
}

/** Rejects if `work` has not settled within `ms`: a test of "nothing hangs" must not hang itself. */
function settlesWithin<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms).unref())]);
}

for (const name of ['threads', 'sim'] as const) {
  test(`${name}: a crash fails only what depends on the crashed actor; the driver learns of it from crashes$`, { timeout: 60_000 }, async () => {
    const host: Host = await hosts[name]({ actors: [{ id: 'crasher', module: actor('crasher') }, { id: 'e', module: actor('echo') }] });
    try {
      const crashes: ActorCrashedError[] = [];
      host.crashes$.subscribe((e) => crashes.push(e));
      const fromHealthy = host.inboxFrom('e');
      const waitOnDead = firstValueFrom(host.inboxFrom('crasher'));
      await host.send('crasher', { kind: 'throw' });
      await assert.rejects(waitOnDead, (e: unknown) => e instanceof ActorCrashedError && e.actor === 'crasher');
      await assert.rejects(firstValueFrom(host.inbox$), ActorCrashedError, 'the merged inbox may wait on the dead actor: it fails');
      const pong = firstValueFrom(fromHealthy);
      await host.send('e', { kind: 'ping' });
      assert.equal((await pong).kind, 'pong', 'a healthy actor still reaches the driver');
      assert.equal((await firstValueFrom(host.crashes$)).actor, 'crasher', 'a late subscriber hears of earlier crashes');
      assert.deepEqual(crashes.map((e) => e.actor), ['crasher']);
      assert.equal(host.failure, crashes[0]);
      await assert.rejects(firstValueFrom(host.inboxFrom('crasher')), ActorCrashedError);
    } finally {
      await host.shutdown();
    }
  });

  test(`${name}: whatever the driver still waits on settles with a clear error at shutdown`, { timeout: 60_000 }, async () => {
    const host: Host = await hosts[name]({ actors: [{ id: 'b', module: actor('bounded'), maxInFlight: 1 }, { id: 'e', module: actor('echo') }], ringBytes: 4096 });
    const reply = firstValueFrom(host.inboxFrom('e'));
    const any = firstValueFrom(host.inbox$);
    const sends = Array.from({ length: 40 }, (_, i) => host.send('b', { kind: 'hold', meta: i, tensors: [Tensor.zeros([256])] }));
    const sent = Promise.allSettled(sends);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await settlesWithin(host.shutdown(), 10_000, 'shutdown');
    await assert.rejects(reply, (e: unknown) => e instanceof ActorStoppedError && e.actor === 'e' && /the host shut down/.test(e.message));
    await assert.rejects(any, /the host was shut down/);
    const rejected = (await settlesWithin(sent, 5000, 'queued sends')).filter((s) => s.status === 'rejected');
    assert.ok(rejected.length > 0, 'some sends were still waiting for ring space');
    for (const { reason } of rejected as PromiseRejectedResult[]) {
      assert.ok(reason instanceof ActorStoppedError, String(reason));
      assert.doesNotMatch(reason.message, /starting/);
      assert.match(reason.message, /shut down/);
    }
    await assert.rejects(host.stats('e'), /actor "e" is stopped \(it was shut down\)/);
  });

  test(`${name}: shutdown ends even when an actor's stop never resolves`, { timeout: 60_000 }, async () => {
    const host: Host = await hosts[name]({ actors: [{ id: 'stuck', module: actor('stuck-stop') }], shutdownTimeoutMs: 200 } as never);
    const events: string[] = [];
    host.events$.subscribe((e) => events.push(`${e.actor}:${e.event}`));
    await settlesWithin(host.shutdown(), 5000, 'shutdown');
    assert.ok(events.includes('stuck:stop-error'), events.join(', '));
  });

  test(`${name}: a start that times out names the actors that did not start`, { timeout: 60_000 }, async () => {
    const specs: ActorSpec[] = [{ id: 'quick', module: actor('echo') }, { id: 'never', module: actor('never-starts') }];
    await assert.rejects(hosts[name]({ actors: specs, startTimeoutMs: name === 'sim' ? 200 : 2500 } as never), (e: unknown) => {
      assert.match((e as Error).message, /actors did not start within \d+ ms: .*"never"/);
      return true;
    });
  });
}

test('threads: an actor stuck in a loop is reported (heartbeat) within the stall timeout; the rest goes on', { timeout: 60_000 }, async () => {
  const host = await startThreadsHost({ actors: [{ id: 'crasher', module: actor('crasher') }, { id: 'e', module: actor('echo') }], stallTimeoutMs: 300 });
  try {
    const crashed = firstValueFrom(host.crashes$);
    const spinning = firstValueFrom(host.inboxFrom('crasher'));
    await host.send('crasher', { kind: 'spin' });
    await spinning;
    const start = Date.now();
    const stats = host.stats('crasher');
    const error = await settlesWithin(crashed, 5000, 'the stall report');
    const took = Date.now() - start;
    assert.equal(error.actor, 'crasher');
    assert.match(error.message, /actor "crasher" crashed: stalled: no heartbeat for \d+ ms/);
    assert.ok(took >= 150 && took < 3000, `reported after ${took} ms (timeout 300 ms)`);
    await assert.rejects(stats, (e: unknown) => e instanceof ActorCrashedError && e.actor === 'crasher', 'a stats call pending on it fails');
    const pong = firstValueFrom(host.inboxFrom('e'));
    await host.send('e', { kind: 'ping' });
    assert.equal((await pong).kind, 'pong');
  } finally {
    await host.shutdown();
  }
});

test('threads: a stats call on a stuck actor settles at shutdown even with the stall check off', { timeout: 60_000 }, async () => {
  const host = await startThreadsHost({ actors: [{ id: 'crasher', module: actor('crasher') }], stallTimeoutMs: 0, shutdownTimeoutMs: 200 });
  const spinning = firstValueFrom(host.inboxFrom('crasher'));
  await host.send('crasher', { kind: 'spin' });
  await spinning;
  const stats = assert.rejects(host.stats('crasher'), (e: unknown) => e instanceof ActorStoppedError && e.actor === 'crasher');
  await settlesWithin(host.shutdown(), 5000, 'shutdown');
  await settlesWithin(stats, 1000, 'stats');
});

test('threads: a program that returns without shutdown() exits, even with messages in flight', { timeout: 60_000 }, async () => {
  const { code, out, err, ms } = await child('./host-exit-child.ts');
  assert.equal(code, 0, err);
  assert.match(out, /^pong 1\ndone without shutdown\n$/, 'a driver awaiting a reply or stats was kept alive until it came');
  assert.ok(ms < 20_000, `exited after ${ms} ms`);
});

test('sim: an unawaited send that fails in actor code crashes that actor, not the process', { timeout: 60_000 }, async () => {
  for (const kind of ['forget', 'forget-chained']) {
    const { code, out, err } = await child('./sim-rejection-child.ts', [kind]);
    assert.equal(code, 0, err);
    const seen = JSON.parse(out) as { name: string; actor: string; message: string; healthy: string };
    assert.equal(seen.name, 'ActorCrashedError');
    assert.equal(seen.actor, 'r');
    assert.match(seen.message, /actor "r" crashed: actor "r" cannot send to "nobody"/);
    assert.equal(seen.healthy, 'pong');
  }
  const unrelated = await child('./sim-rejection-child.ts', ['unrelated']);
  assert.notEqual(unrelated.code, 0, 'a rejection that is no actor\'s still ends the process');
  assert.match(unrelated.err, /not an actor rejection/);
  assert.doesNotMatch(unrelated.out, /still running/);
});
