// rankBarrier against RxJS zip, whose semantics it keeps: the same output for the same (random) schedule of
// values, completions and errors; and its work per arriving message does not grow with the rank count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Observable, Subject, zip } from 'rxjs';
import { SeededRandom, rankBarrier } from '../src/index.ts';

type Seen = string[];

function observe(stream: Observable<number[]>, seen: Seen): () => void {
  const subscription = stream.subscribe({
    next: (batch) => seen.push(`next ${batch.join(',')}`),
    error: (error: unknown) => seen.push(`error ${String(error)}`),
    complete: () => seen.push('complete'),
  });
  return () => subscription.unsubscribe();
}

test('rankBarrier behaves as zip on random schedules of values, completions and errors', () => {
  const random = SeededRandom.forName(11, 'barrier');
  for (let round = 0; round < 300; round++) {
    const ranks = 1 + Math.floor(random.next() * 6);
    const subjects = Array.from({ length: ranks }, () => new Subject<number>());
    const ours: Seen = [];
    const theirs: Seen = [];
    const stopOurs = observe(rankBarrier(subjects), ours);
    const stopTheirs = observe(zip(subjects), theirs);
    for (let step = 0; step < 40; step++) {
      const rank = Math.floor(random.next() * ranks);
      const roll = random.next();
      if (roll < 0.9) subjects[rank].next(step);
      else if (roll < 0.97) subjects[rank].complete();
      else subjects[rank].error(`boom ${step}`);
    }
    assert.deepEqual(ours, theirs, `round ${round}: ${ranks} ranks`);
    stopOurs();
    stopTheirs();
  }
});

test('rankBarrier: a rank already complete, an unsubscribe, and re-subscription behave as zip', () => {
  const done = new Subject<number>();
  done.complete();
  const seen: Seen = [];
  observe(rankBarrier([done, new Subject<number>()]), seen);
  assert.deepEqual(seen, ['complete'], 'a rank that completed with nothing sent ends the barrier at once');
  const live = [new Subject<number>(), new Subject<number>()];
  const got: Seen = [];
  const stop = observe(rankBarrier(live), got);
  live[0].next(1);
  stop();
  assert.equal(live[0].observed || live[1].observed, false, 'unsubscribing lets go of every rank');
  live[1].next(2);
  assert.deepEqual(got, []);
});

/**
 * Buffers visited per arriving message, counted through the array scans a barrier makes (`every`/`some`
 * callbacks): zip scans the buffers on every message; rankBarrier only once per emitted batch.
 */
function visitsPerMessage(barrier: (inboxes: Subject<number>[]) => Observable<number[]>, ranks: number, rounds: number): number {
  const subjects = Array.from({ length: ranks }, () => new Subject<number>());
  let batches = 0;
  const subscription = barrier(subjects).subscribe(() => batches++);
  let visits = 0;
  const { every, some } = Array.prototype;
  type Scan = (this: unknown[], predicate: (value: unknown, index: number, array: unknown[]) => unknown) => boolean;
  const counted = (scan: Scan): Scan =>
    function (this: unknown[], predicate: (value: unknown, index: number, array: unknown[]) => unknown): boolean {
      return scan.call(this, (value: unknown, index: number, array: unknown[]) => {
        visits++;
        return predicate(value, index, array);
      });
    };
  Array.prototype.every = counted(every as Scan) as typeof every;
  Array.prototype.some = counted(some as Scan) as typeof some;
  try {
    for (let r = 0; r < rounds; r++) for (const s of subjects) s.next(r);
  } finally {
    Array.prototype.every = every;
    Array.prototype.some = some;
  }
  subscription.unsubscribe();
  assert.equal(batches, rounds);
  return visits / (ranks * rounds);
}

test('rankBarrier: work per arriving message does not grow with the number of ranks (zip\'s does)', () => {
  for (const ranks of [4, 64, 512]) {
    assert.ok(visitsPerMessage(rankBarrier, ranks, 10) <= 1, `${ranks} ranks: at most one buffer visit per message`);
  }
  assert.ok(visitsPerMessage((s) => zip(s), 512, 10) > 100, 'the probe sees zip scan every buffer per message');
});
