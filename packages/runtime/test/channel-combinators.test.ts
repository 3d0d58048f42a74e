import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { type ChannelMessage, anyRank, createRing, rankBarrier, ringReceiver, ringSender } from '../src/index.ts';
import { until } from './support/until.ts';

test('rankBarrier waits for one message from every rank and emits them in rank order', () => {
  const ranks = [new Subject<string>(), new Subject<string>(), new Subject<string>()];
  const got: string[][] = [];
  let completed = false;
  rankBarrier(ranks).subscribe({ next: (batch) => got.push(batch), complete: () => (completed = true) });
  ranks[2].next('c0');
  ranks[0].next('a0');
  ranks[0].next('a1');
  assert.deepEqual(got, [], 'rank 1 has not sent: no batch yet');
  ranks[1].next('b0');
  assert.deepEqual(got, [['a0', 'b0', 'c0']]);
  ranks[1].next('b1');
  ranks[2].next('c1');
  assert.deepEqual(got, [['a0', 'b0', 'c0'], ['a1', 'b1', 'c1']]);
  ranks[0].complete();
  assert.equal(completed, true, 'a rank that ends ends the barrier');
});

test('anyRank passes each message on as it arrives, without waiting for the other ranks', () => {
  const ranks = [new Subject<string>(), new Subject<string>()];
  const got: string[] = [];
  let completed = false;
  anyRank(ranks).subscribe({ next: (m) => got.push(m), complete: () => (completed = true) });
  ranks[1].next('b0');
  ranks[1].next('b1');
  assert.deepEqual(got, ['b0', 'b1'], 'rank 0 has sent nothing, rank 1 flows anyway');
  ranks[0].next('a0');
  assert.deepEqual(got, ['b0', 'b1', 'a0']);
  ranks[0].complete();
  assert.equal(completed, false, 'rank 1 is still open');
  ranks[1].complete();
  assert.equal(completed, true);
});

test('a barrier over no ranks completes at once', async () => {
  assert.deepEqual(await lastValueFrom(rankBarrier<string>([]).pipe(toArray())), []);
});

test('over channels: the barrier holds rank 0 back until rank 1 sends; merge does not', async () => {
  const rings = [createRing('r0', 1024), createRing('r1', 1024)];
  const senders = rings.map((r) => ringSender(r));
  const receivers = rings.map((r) => ringReceiver(r));
  const barrier: string[][] = [];
  const merged: string[] = [];
  // Each inbox feeds both styles through one subscription (a ring has one reader).
  const inboxes = receivers.map(() => new Subject<ChannelMessage>());
  receivers.forEach((r, i) => r.inbox$.subscribe(inboxes[i]));
  rankBarrier(inboxes).subscribe((batch) => barrier.push(batch.map((m) => m.kind)));
  anyRank(inboxes).subscribe((m) => merged.push(m.kind));
  await senders[0].send({ kind: 'rank0-layer0' });
  await senders[0].send({ kind: 'rank0-layer1' });
  await until(() => merged.length === 2);
  assert.deepEqual(merged, ['rank0-layer0', 'rank0-layer1']);
  assert.deepEqual(barrier, [], 'the barrier still waits for rank 1');
  await senders[1].send({ kind: 'rank1-layer0' });
  await until(() => barrier.length === 1);
  assert.deepEqual(barrier, [['rank0-layer0', 'rank1-layer0']]);
  assert.deepEqual(merged, ['rank0-layer0', 'rank0-layer1', 'rank1-layer0']);
  for (const r of receivers) r.close();
});
