import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { firstValueFrom } from 'rxjs';
import {
  ActorCrashedError,
  ActorSpawnError,
  ActorStoppedError,
  type ActorSpec,
  type Host,
  type HostOptions,
  MessageTooLargeError,
  Tensor,
  startSimHost,
  startThreadsHost,
} from '../src/index.ts';

const CRASHER = new URL('./actors/crasher.ts', import.meta.url);
const RELAY = new URL('./actors/relay.ts', import.meta.url);
const FRONT = new URL('./actors/front.ts', import.meta.url);

const hosts = { threads: startThreadsHost, sim: startSimHost } as const;
type HostName = keyof typeof hosts;

const specs: ActorSpec[] = [
  { id: 'crasher', module: CRASHER },
  { id: 'relay', module: RELAY, config: { target: 'crasher' } },
];

const osThreads = (): number => readdirSync('/proc/self/task').length;

/**
 * Waits (bounded) for the process's OS thread count to come back to at most `count`: a terminated worker's
 * thread is joined a moment after `terminate()` resolves, and a thread left over from an earlier test may
 * still be exiting, so an immediate exact count is flaky. A leaked worker keeps the count above.
 */
async function threadsBackTo(count: number, message: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (osThreads() > count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(osThreads() <= count, `${message}: ${osThreads()} OS threads, ${count} before`);
}

interface RelayStats {
  replies: number;
  errors: string[];
}

/** Polls `check` until it holds; under sim, lets virtual time run out first. Bounded: never hangs. */
async function eventually(host: Host, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if ('idle' in host && typeof host.idle === 'function') await host.idle();
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function relayErrors(host: Host): Promise<string[]> {
  return ((await host.stats('relay')).custom as RelayStats).errors;
}

/** Crashes "crasher" with `kind` while the driver and the relay both wait on it; checks what each sees. */
async function crashWhileWaited(name: HostName, kind: string, expected: RegExp, options: Partial<HostOptions> = {}): Promise<void> {
  const host = await hosts[name]({ actors: specs, ...options });
  try {
    const driverWait = firstValueFrom(host.inboxFrom('crasher'));
    const waiting = firstValueFrom(host.inboxFrom('relay'));
    await host.send('relay', { kind: 'wait' });
    assert.equal((await waiting).kind, 'waiting');
    await host.send('crasher', { kind });

    const seen = await driverWait.then(
      () => assert.fail('the driver got a message instead of an error'),
      (error: unknown) => error,
    );
    assert.ok(seen instanceof ActorCrashedError, `${name}: the driver sees ActorCrashedError, got ${String(seen)}`);
    assert.equal(seen.actor, 'crasher');
    assert.match(seen.message, /actor "crasher" crashed: /);
    assert.match(seen.message, expected);
    assert.equal(host.failure, seen);

    await eventually(host, async () => (await relayErrors(host)).length > 0);
    const [peerSaw] = await relayErrors(host);
    assert.match(peerSaw, /^ActorCrashedError: actor "crasher" crashed: /, `${name}: the waiting peer's error names the actor`);

    await assert.rejects(host.send('crasher', { kind: 'ping' }), (e: unknown) => e instanceof ActorStoppedError && e.actor === 'crasher');
    await assert.rejects(host.stats('crasher'), /actor "crasher" is stopped \(crashed: /);
    await host.send('relay', { kind: 'send' });
    await eventually(host, async () => (await relayErrors(host)).length > 1);
    assert.match((await relayErrors(host))[1], /^ActorStoppedError: actor "crasher" is stopped/, `${name}: a peer sending to it gets a clear error`);
  } finally {
    await host.shutdown();
  }
}

test('threads: a throw in a handler fails the driver and the waiting peer, naming the actor', { timeout: 60_000 }, () =>
  crashWhileWaited('threads', 'throw', /thrown on purpose/),
);

test('sim: a throw in a handler fails the driver and the waiting peer, naming the actor', { timeout: 60_000 }, () =>
  crashWhileWaited('sim', 'throw', /thrown on purpose/),
);

test('threads: process.exit in a worker is a crash naming the actor', { timeout: 60_000 }, () =>
  crashWhileWaited('threads', 'exit', /worker exited with code 3/),
);

test('sim: a rejected async handler and a throwing timer are crashes too', { timeout: 60_000 }, async () => {
  await crashWhileWaited('sim', 'reject', /rejected on purpose/);
  await crashWhileWaited('sim', 'timer-throw', /thrown in a timer on purpose/);
});

test('threads: shutdown leaves no worker thread running, even one stuck in a loop', { timeout: 60_000 }, async () => {
  // A first host warms up whatever threads Node starts lazily (libuv pool, tsx), so the count is stable.
  await (await startThreadsHost({ actors: specs.slice(0, 1) })).shutdown();
  const before = osThreads();
  const host = await startThreadsHost({ actors: specs, shutdownTimeoutMs: 300 });
  assert.ok(osThreads() >= before + 2, 'one thread per actor while running');
  await host.send('crasher', { kind: 'spin' });
  await host.shutdown();
  await threadsBackTo(before, 'every worker thread is gone');
  await host.shutdown();
  await assert.rejects(host.send('relay', { kind: 'send' }), /actor "relay" is stopped \(it was shut down\)/);
});

for (const name of ['threads', 'sim'] as const) {
  test(`${name}: spawning a missing module, or one without an actor, is a clear error`, { timeout: 60_000 }, async () => {
    const before = osThreads();
    const missing = fileURLToPath(new URL('./actors/no-such-actor.ts', import.meta.url));
    await assert.rejects(
      hosts[name]({ actors: [...specs, { id: 'ghost', module: missing }] }),
      (e: unknown) => e instanceof ActorSpawnError && e.actor === 'ghost' && e.message.includes('no-such-actor.ts') && /not found/.test(e.message),
    );
    await assert.rejects(
      hosts[name]({ actors: [{ id: 'plain', module: new URL('./actors/not-an-actor.ts', import.meta.url) }] }),
      (e: unknown) => e instanceof ActorSpawnError && e.actor === 'plain' && /no default export made by defineActor/.test(e.message),
    );
    await assert.rejects(
      hosts[name]({ actors: [{ id: 'bad-setup', module: new URL('./actors/failing-setup.ts', import.meta.url) }] }),
      (e: unknown) => e instanceof ActorSpawnError && e.actor === 'bad-setup' && /setup failed on purpose/.test(e.message),
    );
    await assert.rejects(hosts[name]({ actors: [...specs, { id: 'relay', module: RELAY }] }), /actor id "relay" is used twice/);
    await assert.rejects(
      hosts[name]({ actors: [{ id: 'f', module: FRONT, sendsTo: ['nobody'] }] }),
      /actor "f" sendsTo "nobody", which is not an actor on this host/,
    );
    await threadsBackTo(before, 'a failed start leaves no worker behind');
  });

  test(`${name}: a message larger than the ring is a clear error`, { timeout: 60_000 }, async () => {
    const host = await hosts[name]({ actors: specs, ringBytes: 64 * 1024 });
    try {
      await assert.rejects(
        host.send('crasher', { kind: 'big', tensors: [Tensor.zeros([128 * 1024])] }),
        (e: unknown) => e instanceof MessageTooLargeError && /driver->crasher/.test(e.message) && e.capacityBytes === 64 * 1024,
      );
      const pong = firstValueFrom(host.inboxFrom('crasher'));
      await host.send('crasher', { kind: 'ping' });
      assert.equal((await pong).kind, 'pong', 'the channel still works after the refused message');
    } finally {
      await host.shutdown();
    }
  });
}
