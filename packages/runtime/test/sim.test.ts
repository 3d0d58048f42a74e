import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstValueFrom, take, toArray } from 'rxjs';
import { type ActorEvent, Tensor, startSimHost } from '../src/index.ts';

const GOSSIP = new URL('./actors/gossip.ts', import.meta.url);
const ECHO = new URL('./actors/echo.ts', import.meta.url);

async function gossipRun(seed: number): Promise<readonly ActorEvent[]> {
  const actors = ['a', 'b', 'c', 'd'].map((id) => ({ id, module: GOSSIP, config: { hops: 6 } }));
  const host = await startSimHost({ actors, seed, link: { latencyMs: 0.02, gbps: 5, jitterMs: 0.05 } });
  const payload = Tensor.fromF32([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
  for (const { id } of actors) await host.send(id, { kind: 'start', tensors: [payload] });
  await host.idle();
  await host.shutdown();
  return host.events;
}

test('sim: two runs with one seed give identical event logs; another seed gives another log', { timeout: 30_000 }, async () => {
  const first = await gossipRun(42);
  const second = await gossipRun(42);
  assert.deepEqual(second, first);
  assert.equal(JSON.stringify(second), JSON.stringify(first), 'byte for byte');
  const kinds = new Set(first.map((e) => e.event));
  for (const kind of ['start', 'send', 'receive', 'device', 'heard', 'quiet', 'stop']) assert.ok(kinds.has(kind), `the log has ${kind} events`);
  assert.equal(first.filter((e) => e.event === 'heard').length, 4 * 3 * 7, 'every rumour travels 7 hops');
  const other = await gossipRun(43);
  assert.notDeepEqual(other, first);
});

test('sim: nothing reads the wall clock', { timeout: 30_000 }, async () => {
  const { now: dateNow } = Date;
  const { now: perfNow } = performance;
  const refuse = (): never => {
    throw new Error('the sim host read the wall clock');
  };
  Date.now = refuse;
  performance.now = refuse;
  try {
    const events = await gossipRun(7);
    assert.equal(events.filter((e) => e.event === 'heard').length, 4 * 3 * 7, 'the run completed');
    assert.ok(!events.some((e) => e.event === 'crash'));
  } finally {
    Date.now = dateNow;
    performance.now = perfNow;
  }
});

test('sim: a link costs latency + bytes / bandwidth; a device costs what the cost function says', { timeout: 30_000 }, async () => {
  const host = await startSimHost({
    actors: [{ id: 'echo', module: ECHO }],
    link: { latencyMs: 0.1, gbps: 1 },
    deviceCost: (op) => (op.flops ?? 0) / 1e6,
  });
  try {
    const pong = firstValueFrom(host.inboxFrom('echo'));
    await host.send('echo', { kind: 'ping', meta: { flops: 2e6 } });
    const reply = await pong;
    const [ping, replyBytes] = host.events.filter((e) => e.event === 'send').map((e) => (e.detail as { bytes: number }).bytes);
    assert.equal(ping, 64, 'a small message is one 64-byte record');
    const arrived = ping / 1e6 + 0.1;
    assert.equal((reply.meta as { at: number }).at, arrived + 2, 'the op ends 2 ms after the ping lands');
    assert.equal(host.now(), arrived + 2 + replyBytes / 1e6 + 0.1);
    const stats = await host.stats('echo');
    assert.equal(stats.deviceOps, 1);
    assert.equal(stats.deviceBusyMs, 2);
  } finally {
    await host.shutdown();
  }
});

test('sim: a device runs one op at a time and a link carries one message at a time', { timeout: 30_000 }, async () => {
  const host = await startSimHost({
    actors: [{ id: 'echo', module: ECHO }],
    link: { latencyMs: 0, gbps: 1 },
    deviceCost: (op) => (op.flops ?? 0) / 1e6,
  });
  try {
    const pongs = firstValueFrom(host.inboxFrom('echo').pipe(take(2), toArray()));
    const rows = Tensor.zeros([1000, 250]); // 1 MB: 1 ms on a 1 GB/s wire
    const sent = host.now();
    await host.send('echo', { kind: 'ping', meta: { flops: 1e6 }, tensors: [rows] });
    await host.send('echo', { kind: 'ping', meta: { flops: 1e6 }, tensors: [rows] });
    const [first, second] = (await pongs).map((m) => (m.meta as { at: number }).at);
    assert.equal(sent, 0);
    assert.ok(first > 2 && first < 2.01, `first: lands ≈1 ms, computes 1 ms; got ${first}`);
    assert.ok(second > 3 && second < 3.01, `second: waits for the wire, lands ≈2 ms, computes 1 ms; got ${second}`);
  } finally {
    await host.shutdown();
  }
});

test('sim: an op hears how long the whole host sat idle before it, not its own device', { timeout: 30_000 }, async () => {
  const heard: string[] = [];
  const host = await startSimHost({
    actors: [
      { id: 'a', module: ECHO },
      { id: 'b', module: ECHO },
    ],
    link: { latencyMs: 0, gbps: 1000 },
    deviceCost: (op, actor, idleMs) => {
      heard.push(`${actor} ${idleMs === 0 ? 'busy' : 'idle'}`);
      return (op.flops ?? 0) / 1e6;
    },
  });
  try {
    const ping = async (id: string, flops: number): Promise<void> => {
      const pong = firstValueFrom(host.inboxFrom(id));
      await host.send(id, { kind: 'ping', meta: { flops } });
      await pong;
    };
    await ping('a', 1e6);
    await ping('b', 1e6);
    // b's second op starts while a computes: the machine is busy, though b's own device rested.
    await Promise.all([ping('a', 10e6), ping('b', 1e6)]);
    assert.deepEqual(heard, ['a busy', 'b idle', 'a idle', 'b busy'], 'the first op ever has no idle time before it');
  } finally {
    await host.shutdown();
  }
});

test('sim: a full ring holds the sender back until messages land', { timeout: 30_000 }, async () => {
  const host = await startSimHost({ actors: [{ id: 'echo', module: ECHO }], link: { latencyMs: 1, gbps: 100 }, ringBytes: 4096 });
  try {
    const pongs = firstValueFrom(host.inboxFrom('echo').pipe(take(3), toArray()));
    const rows = Tensor.zeros([3, 256]); // 3 KiB + header: one message fills the 4 KiB ring
    const admitted: number[] = [];
    for (let i = 0; i < 3; i++) {
      await host.send('echo', { kind: 'ping', tensors: [rows] });
      admitted.push(host.now());
    }
    await pongs;
    assert.equal(admitted[0], 0);
    assert.ok(admitted[1] > 1 && admitted[2] > admitted[1] + 1, `each send waits for the previous message to land: ${admitted}`);
  } finally {
    await host.shutdown();
  }
});

test('sim: actors given one config object share one frozen copy of it; the caller keeps its own', { timeout: 30_000 }, async () => {
  const config = { peers: ['a', 'b'] };
  const module = new URL('./actors/config-reader.ts', import.meta.url);
  const host = await startSimHost({ actors: ['a', 'b'].map((id) => ({ id, module, config })) });
  try {
    for (const id of ['a', 'b']) {
      const reply = firstValueFrom(host.inboxFrom(id));
      await host.send(id, { kind: 'write' });
      assert.deepEqual((await reply).meta, { peers: ['a', 'b'], refused: 'TypeError' }, `${id} cannot change what its peer reads`);
    }
    config.peers.push('c');
    assert.deepEqual(config.peers, ['a', 'b', 'c'], 'the caller’s object is neither frozen nor shared');
  } finally {
    await host.shutdown();
  }
});
