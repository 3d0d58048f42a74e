// The virtual clock's pump, the sim host's bounded event log, and the runner's delivery contract.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ActorEvent, Tensor, startSimHost } from '../src/index.ts';
import { VirtualClock } from '../src/host/sim/clock.ts';
import { EventLog } from '../src/host/sim/event-log.ts';
import { ActorRunner } from '../src/actor/runner.ts';
import { testRunnerPort } from './support/runner-port.ts';

test('sim clock: every continuation an event starts runs before the next event, in (time, seq) order', async () => {
  const clock = new VirtualClock((error) => assert.fail(String(error)));
  const seen: string[] = [];
  const chain = async (name: string): Promise<void> => {
    for (let i = 0; i < 5; i++) await null;
    seen.push(`${name} done @${clock.time}`);
  };
  clock.at(2, () => {
    seen.push('b');
    void chain('b');
  });
  clock.at(1, () => {
    seen.push('a');
    void chain('a');
    clock.at(1, () => seen.push('a2'));
  });
  clock.at(2, () => seen.push('c'));
  await clock.idle();
  assert.deepEqual(seen, ['a', 'a done @1', 'a2', 'b', 'b done @2', 'c']);
});

test('sim clock: a long run still lets timers and I/O in (a macrotask turn every so many events)', async () => {
  const clock = new VirtualClock((error) => assert.fail(String(error)));
  let timerFired = false;
  setTimeout(() => (timerFired = true), 0);
  let left = 20_000;
  let firedAt = -1;
  const tick = (): void => {
    if (timerFired && firedAt < 0) firedAt = clock.eventsRun;
    if (--left > 0) clock.after(1, tick);
  };
  clock.at(0, tick);
  await clock.idle();
  assert.equal(clock.eventsRun, 20_000);
  assert.ok(firedAt > 0 && firedAt < 20_000, `the timer fired during the run (at event ${firedAt})`);
});

test('sim clock: a cancelled event never runs; stop drops what is pending', async () => {
  const clock = new VirtualClock((error) => assert.fail(String(error)));
  const seen: number[] = [];
  clock.at(1, () => seen.push(1));
  clock.at(2, () => seen.push(2)).cancel();
  clock.at(3, () => {
    seen.push(3);
    clock.stop();
  });
  clock.at(4, () => seen.push(4));
  await clock.idle();
  assert.deepEqual(seen, [1, 3]);
  assert.equal(clock.eventsRun, 2);
});

test('event log: keeps the latest `limit` events in order and counts the rest as dropped', () => {
  const log = new EventLog(3);
  const event = (time: number): ActorEvent => ({ time, actor: 'a', event: 'e' });
  for (let t = 0; t < 2; t++) log.push(event(t));
  assert.deepEqual(log.events().map((e) => e.time), [0, 1]);
  for (let t = 2; t < 8; t++) log.push(event(t));
  assert.deepEqual(log.events().map((e) => e.time), [5, 6, 7]);
  assert.equal(log.dropped, 5);
  const none = new EventLog(0);
  none.push(event(0));
  assert.deepEqual(none.events(), []);
  assert.equal(none.dropped, 1);
  assert.throws(() => new EventLog(-1), /eventLogLimit must be an integer >= 0/);
});

test('sim host: the event log stays bounded over a long run (eventLogLimit), the same for one seed', { timeout: 60_000 }, async () => {
  const run = async (): Promise<{ events: readonly ActorEvent[]; dropped: number }> => {
    const actors = ['a', 'b', 'c'].map((id) => ({ id, module: new URL('./actors/gossip.ts', import.meta.url), config: { hops: 40 } }));
    const host = await startSimHost({ actors, seed: 9, eventLogLimit: 50 });
    for (const { id } of actors) await host.send(id, { kind: 'start', tensors: [Tensor.fromF32([1, 2], [2])] });
    await host.idle();
    await host.shutdown();
    return { events: host.events, dropped: host.eventsDropped };
  };
  const first = await run();
  assert.equal(first.events.length, 50);
  assert.ok(first.dropped > 500, `most events were let go (${first.dropped})`);
  assert.equal(first.events.at(-1)?.event, 'stop');
  const second = await run();
  assert.equal(JSON.stringify(second), JSON.stringify(first));
});

test('runner: a host that delivers while the actor is not ready is told so (the runner buffers nothing)', () => {
  const placement = { id: 'x', peers: [], destinations: [], seed: 1, arenaBytes: 1024, maxInFlight: 1 };
  const clock = new VirtualClock(() => {});
  const port = testRunnerPort(clock);
  const runner = new ActorRunner(placement, port);
  assert.equal(runner.ready, false, 'not ready while it sets up');
  assert.throws(() => runner.deliver('driver', { kind: 'early' }), /delivered while it is setting up: a host delivers only while `ready` holds/);
});
