// HotStream (an actor's inbox streams) must behave as the RxJS Subject it replaced; endOf is a sender's end without its messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Subject } from 'rxjs';
import { HotStream } from '../src/actor/hot-stream.ts';
import { ActorRunner } from '../src/actor/runner.ts';
import { defineActor } from '../src/index.ts';
import { VirtualClock } from '../src/host/sim/clock.ts';
import { testRunnerPort } from './support/runner-port.ts';

type Pushable = { next(x: number): void; error(e: unknown): void; complete(): void; readonly observed: boolean };

/** The same script on a Subject and on a HotStream: what each subscriber saw, in order. */
function script(end: 'error' | 'complete'): { subject: string[]; hot: string[] } {
  const play = (push: Pushable, subscribe: (name: string, seen: string[]) => { unsubscribe(): void }): string[] => {
    const seen: string[] = [];
    seen.push(`observed ${push.observed}`);
    const a = subscribe('a', seen);
    push.next(1);
    const b = subscribe('b', seen);
    push.next(2);
    const c = subscribe('c', seen);
    b.unsubscribe();
    push.next(3);
    seen.push(`observed ${push.observed}`);
    if (end === 'error') push.error(new Error('down'));
    else push.complete();
    push.next(4);
    subscribe('late', seen);
    a.unsubscribe();
    c.unsubscribe();
    seen.push(`observed ${push.observed}`);
    return seen;
  };
  const subject = new Subject<number>();
  const stream = new HotStream<number>();
  const observer = (name: string, seen: string[]) => ({
    next: (x: number) => seen.push(`${name} ${x}`),
    error: (e: Error) => seen.push(`${name} error ${e.message}`),
    complete: () => seen.push(`${name} complete`),
  });
  return {
    subject: play(subject, (name, seen) => subject.asObservable().subscribe(observer(name, seen))),
    hot: play(stream, (name, seen) => stream.observable.subscribe(observer(name, seen))),
  };
}

test('hot stream: items, errors and completion reach subscribers as a Subject delivers them', () => {
  for (const end of ['error', 'complete'] as const) {
    const { subject, hot } = script(end);
    assert.deepEqual(hot, subject);
  }
});

test('hot stream: an item goes to the subscribers there were when it was pushed', () => {
  const stream = new HotStream<number>();
  const seen: string[] = [];
  stream.observable.subscribe((x) => {
    seen.push(`a ${x}`);
    if (x === 1) stream.observable.subscribe((y) => seen.push(`b ${y}`));
  });
  stream.next(1);
  stream.next(2);
  assert.deepEqual(seen, ['a 1', 'a 2', 'b 2']);
});

test('runner: endOf(peer) carries no messages, errors when the peer goes down, completes when the actor stops', async () => {
  const placement = { id: 'x', peers: ['p', 'q'], destinations: [], seed: 1, arenaBytes: 1024, maxInFlight: 1 };
  const clock = new VirtualClock(() => {});
  const port = testRunnerPort(clock);
  const runner = new ActorRunner(placement, port);
  const seen: string[] = [];
  const watch = (name: string, peer: string): void => {
    runner.ctx.endOf(peer).subscribe({
      next: () => seen.push(`${name} message`),
      error: (e: Error) => seen.push(`${name} error ${e.message}`),
      complete: () => seen.push(`${name} complete`),
    });
  };
  await runner.start(defineActor(() => ({ onMessage: () => {} })), undefined);
  watch('p', 'p');
  watch('q', 'q');
  const messages: string[] = [];
  runner.ctx.inboxFrom('p').subscribe({ next: (m) => messages.push(m.kind), error: () => messages.push('error') });
  runner.deliver('p', { kind: 'hello' });
  runner.peerDown('p', new Error('p crashed'));
  watch('p late', 'p');
  assert.throws(() => runner.ctx.endOf('nobody'), /endOf\("nobody"\): no such actor/);
  await runner.stop();
  assert.deepEqual(messages, ['hello', 'error']);
  assert.deepEqual(seen, ['p error p crashed', 'p late error p crashed', 'q complete']);
});
