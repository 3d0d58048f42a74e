// A minimal runner port on a virtual clock, for tests that drive an ActorRunner by hand: device ops compute at
// once, sends go nowhere, and a crash fails the test.
import assert from 'node:assert/strict';
import type { VirtualClock } from '../../src/host/sim/clock.ts';

export function testRunnerPort(clock: VirtualClock) {
  return {
    host: 'sim' as const,
    scheduler: clock.scheduler,
    device: { run: async <T>(_op: unknown, compute: () => T): Promise<T> => compute(), idle: async () => {}, ops: 0, busyMs: 0 },
    now: () => 0,
    send: async () => {},
    log: () => {},
    crash: (error: unknown) => assert.fail(String(error)),
    resume: () => {},
  };
}
