// The configuration search with goodput: the finalists' goodput, then a second look at every other
// candidate at the winner's goodput, so a configuration that ranked low at the search's rate but goes
// further is not missed. A fake point runner stands in for the engines: each configuration keeps the SLO up
// to a rate of its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunSummary } from '../src/metrics/summary.ts';
import { compareEngines } from '../src/run/compare.ts';
import { type EngineFamily, type Knobs, SYNC } from '../src/run/engines.ts';
import type { PointTask } from '../src/run/point.ts';
import type { PointRunner } from '../src/run/point-runner.ts';

/** Configuration c keeps the SLO up to CAPS[c] req/s; at the search's rate c = 0 has the best p90. */
const CAPS = [20, 10, 35, 5];

/**
 * A runner whose configuration c keeps `kept(c, rate)` of its requests and reports `ideal(c, rate)` as its
 * bound; p90 rises with c (so at light load the ranking goes by c). Each run is logged as [c, rate].
 */
function fakeRunner(log: Array<[number, number]>, kept: (c: number, rate: number) => number, ideal: (c: number, rate: number) => number): PointRunner {
  return {
    async run(task: PointTask) {
      const c = task.setup.knobs.c as number;
      const rate = task.workload.rate;
      log.push([c, rate]);
      const k = kept(c, rate);
      const attainment = { '2': k, '5': k, '10': k };
      const summary = { setup: task.setup, rate, attainment, ttftMs: { p50: 1, p90: 100 + 10 * c, p99: 1 }, ideal: { tokensPerS: 1, requestsPerS: ideal(c, rate) } } as unknown as RunSummary;
      return { summary, records: [], spans: [] };
    },
    async close() {},
  };
}

/** sync's search over configurations c = 0..count-1, with goodput searches from 4 req/s at SLO×5, one finalist. */
function searchConfigurations(count: number, runner: PointRunner) {
  return searchFamily({ ...SYNC, candidates: () => Array.from({ length: count }, (_, c) => ({ c })) }, runner);
}

/** A family's search, with goodput searches from 4 req/s at SLO×5, one finalist. */
async function searchFamily(family: EngineFamily, runner: PointRunner) {
  const [result] = await compareEngines([family], runner, {
    model: 'm',
    vocabSize: 1,
    host: 'sim',
    ranks: 2,
    workload: { arrivals: 'poisson', rate: 10, requests: 1, lengths: { kind: 'fixed', tokens: 1 }, seed: 1 } as never,
    curve: { lengths: [1], ttftMs: [1] },
    level: 'full',
    goodput: { sloScale: 5, start: 4, max: 64, steps: 2, finalists: 1 },
  });
  return result;
}

test('goodput search: a candidate the first ranking missed gets its own search when it keeps the SLO at the winner\'s goodput', async () => {
  const log: Array<[number, number]> = [];
  const result = await searchConfigurations(CAPS.length, fakeRunner(log, (c, rate) => (rate <= CAPS[c] ? 1 : 0.5), (c, rate) => 100 * (c + 1) + rate));
  // Ranked at 4 req/s (all keep the SLO): c = 0 has the lowest p90, and its search finds 20 (4, 8, 16 pass;
  // 32, 24 fail; 20 passes). At 20 req/s c = 1 and c = 3 fail, c = 2 keeps the SLO: its search climbs the
  // lattice from 20 (24, 28, 32 pass; 40 fails) to 32.
  assert.deepEqual(result.best.knobs, { c: 2 });
  assert.equal(result.goodput?.rate, 32);
  // ... then a run five times longer confirms 32 (the fake keeps the same share over any length).
  assert.deepEqual(log.filter(([c]) => c === 2).map(([, rate]) => rate), [10, 20, 24, 28, 32, 40, 32], 'the challenger tries the lattice\'s rates above the winner\'s goodput, one step at a time');
  assert.equal(result.goodput?.idealAtGoodput, 332, 'the ideal bound of the run at the goodput rate');
  assert.deepEqual(result.goodput?.searches.map((f) => [f.knobs.c, f.goodput]), [[0, 20], [2, 32]], 'every search, the finalist then the challenger');
  assert.deepEqual(result.goodput?.secondLook.map((l) => [l.knobs.c, l.point.rate, l.point.attainment]), [[1, 20, 0.5], [2, 20, 1], [3, 20, 0.5]]);
  assert.equal(log.filter(([c, rate]) => c === 2 && rate === 20).length, 1, 'the challenger\'s run at the winner\'s goodput is not repeated');
});

test('goodput search: the candidate with the most attainment to spare at the winner\'s goodput is searched too, not only the two most efficient', async () => {
  // c = 3 keeps the SLO furthest but has the lowest ideal bound; its margin at 20 req/s is the largest.
  const caps = [20, 30, 30, 40];
  const ideals = [200, 300, 250, 100];
  const log: Array<[number, number]> = [];
  // Every configuration keeps all requests at light load (so the first ranking goes by p90).
  const kept = (c: number, rate: number): number => (rate <= 10 ? 1 : rate <= caps[c] ? 0.9 + (0.1 * (caps[c] - rate)) / caps[c] : 0.5);
  const runner = fakeRunner(log, kept, (c) => ideals[c]);
  const result = await searchConfigurations(caps.length, runner);
  // c = 0 wins at 4 req/s and goes to 20; at 20 the two most efficient (c = 1, c = 2) reach 30, c = 3 (its
  // margin 0.95 against 0.933) reaches 40.
  assert.deepEqual(result.best.knobs, { c: 3 });
  assert.equal(result.goodput?.rate, 40);
  assert.ok(log.some(([c, rate]) => c === 1 && rate > 20) && log.some(([c, rate]) => c === 2 && rate > 20), 'both efficient challengers were searched');
});

test('goodput search: a short run that keeps the SLO past its own ideal bound is settled by a run five times longer', async () => {
  // The short runs (1 request) keep the SLO up to 20 req/s but report an ideal bound of 10; the long runs
  // (5 requests) keep it up to 16 with a bound of 100: 16 passes, 20 fails on the long run's attainment.
  const log: Array<[number, number]> = [];
  const runner: PointRunner = {
    async run(task: PointTask) {
      const rate = task.workload.rate;
      const requests = task.workload.requests;
      log.push([requests, rate]);
      const long = requests > 1;
      const kept = rate <= (long ? 16 : 20) ? 1 : 0.5;
      const attainment = { '2': kept, '5': kept, '10': kept };
      const summary = { setup: task.setup, requests, attainment, ttftMs: { p50: 1, p90: 1, p99: 1 }, ideal: { tokensPerS: 1, requestsPerS: long ? 100 : 10 } } as unknown as RunSummary;
      return { summary, records: [], spans: [] };
    },
    async close() {},
  };
  const result = await searchConfigurations(1, runner);
  assert.equal(result.goodput?.rate, 16);
  assert.equal(result.goodput?.idealAtGoodput, 100, 'the bound of the run that settled the goodput point');
  const points = result.goodput?.points ?? [];
  assert.deepEqual(points.map((p) => [p.rate, p.attainment, p.overloaded ?? false, p.requests ?? 1]), [[4, 1, false, 1], [8, 1, false, 1], [16, 1, false, 5], [20, 0.5, false, 5], [24, 0.5, true, 1], [32, 0.5, true, 1]]);
  assert.deepEqual(log.filter(([requests]) => requests > 1).map(([, rate]) => rate), [16, 20], 'only points the short run could not settle run long');
});

test('goodput search: the two best searches are confirmed by runs five times longer, and the best confirmed wins', async () => {
  // Short runs (1 request): c = 0 keeps the SLO up to 20 req/s, c = 2 up to 32 (it wins the short searches).
  // Long runs (5 requests): c = 0 keeps it up to 20, c = 2 only up to 12.
  const shortCaps = [20, 10, 32, 5];
  const longCaps = [20, 10, 12, 5];
  const log: Array<[number, number, number]> = [];
  const runner: PointRunner = {
    async run(task: PointTask) {
      const c = task.setup.knobs.c as number;
      const { rate, requests } = task.workload;
      log.push([c, rate, requests]);
      const kept = rate <= (requests > 1 ? longCaps : shortCaps)[c] ? 1 : 0.5;
      const attainment = { '2': kept, '5': kept, '10': kept };
      const summary = { setup: task.setup, requests, attainment, ttftMs: { p50: 1, p90: 100 + 10 * c, p99: 1 }, ideal: { tokensPerS: 1, requestsPerS: 1000 + rate } } as unknown as RunSummary;
      return { summary, records: [], spans: [] };
    },
    async close() {},
  };
  const result = await searchConfigurations(shortCaps.length, runner);
  // c = 2's passing rates run long from the top (32, 28, 24, 20 fail), then halvings of the lowest (10
  // passes), then halfway between 10 and 20 (15 fails): 10. c = 0's 20 passes long at once.
  assert.deepEqual(log.filter(([c, , requests]) => c === 2 && requests > 1).map(([, rate]) => rate), [32, 28, 24, 20, 10, 15]);
  assert.deepEqual(log.filter(([c, , requests]) => c === 0 && requests > 1).map(([, rate]) => rate), [20]);
  assert.deepEqual(result.best.knobs, { c: 0 });
  assert.equal(result.goodput?.rate, 20);
  assert.equal(result.goodput?.idealAtGoodput, 1020, 'the bound of the long run at the confirmed goodput');
  assert.deepEqual(result.goodput?.confirmations.map((f) => [f.knobs.c, f.searched, f.goodput]), [[2, 32, 10], [0, 20, 20]]);
  assert.deepEqual(result.goodput?.searches.map((f) => [f.knobs.c, f.goodput]), [[0, 20], [2, 32]], 'the searches as the short runs found them');
  const points = result.goodput?.points ?? [];
  assert.ok(points.some((p) => p.rate === 20 && p.requests === 5), 'the winner\'s point at its goodput is the long run\'s');
});

/**
 * The search of candidates c = 0 and 1 in a family that suggests `suggest(c of each run it is told of)`; c
 * keeps the SLO up to caps[c] req/s. `told`: each time the family was asked, the [c, rate] of the runs it was told of.
 */
async function searchRefining(caps: Record<number, number>, suggest: (measured: number[]) => Knobs[]) {
  const log: Array<[number, number]> = [];
  const runner = fakeRunner(log, (c, rate) => (rate <= caps[c] ? 1 : 0.5), () => 1000);
  const told: Array<Array<[number, number]>> = [];
  const family = {
    ...SYNC,
    candidates: () => [{ c: 0 }, { c: 1 }],
    refine: (_ranks: number, measured: ReadonlyArray<{ knobs: Knobs; summary: RunSummary }>) => {
      told.push(measured.map((m) => [m.knobs.c as number, (m.summary as unknown as { rate: number }).rate]));
      return suggest(measured.map((m) => m.knobs.c as number));
    },
  };
  return { log, told, result: await searchFamily(family, runner) };
}

test('goodput search: configurations the family suggests from the runs at the winner\'s goodput are run, settled there and searched', async () => {
  // c = 0 keeps the SLO up to 20 req/s, c = 1 up to 10; the family suggests c = 2 (up to 40) and c = 0 again.
  const { log, told, result } = await searchRefining({ 0: 20, 1: 10, 2: 40 }, () => [{ c: 2 }, { c: 0 }]);
  // c = 0 wins the first search at 20; c = 1 fails there, so the family is told of c = 0's run at 20 alone.
  // c = 2 then reaches 40, and the family is told of its run just past that (48): it suggests nothing new.
  assert.deepEqual(told, [[[0, 20]], [[2, 48]]]);
  assert.deepEqual(result.best.knobs, { c: 2 });
  assert.equal(result.goodput?.rate, 40);
  assert.ok(log.some(([c, rate]) => c === 2 && rate === 10), 'the suggested configuration runs at the search\'s rate, as every candidate');
  assert.deepEqual(result.candidates.map((c) => c.knobs.c), [0, 1, 2], 'a suggestion already among the candidates is not run again');
  assert.equal(result.result.summary.setup.knobs.c, 2, 'the best run is the winner\'s at the search\'s rate');
});

test('goodput search: while a suggestion raises the goodput, the family is told of the runs just past it and suggests again', async () => {
  // The family suggests c + 2 from the highest c measured (none past c = 6); each keeps the SLO further.
  const { told, result } = await searchRefining({ 0: 20, 1: 10, 2: 28, 4: 36, 6: 40 }, (measured) => {
    const next = Math.max(...measured) + 2;
    return next <= 6 ? [{ c: next }] : [];
  });
  // c = 0 reaches 20 (its search tried 32, 24); c = 2, suggested from its run at 20, climbs to 28. Both ran at
  // 32, the rate just past 28: c = 4 climbs to 32 (40 fails), and from its run at 40, c = 6 climbs to 40.
  assert.deepEqual(told, [[[0, 20]], [[0, 32], [2, 32]], [[4, 40]], [[6, 48]]]);
  assert.deepEqual(result.best.knobs, { c: 6 });
  assert.equal(result.goodput?.rate, 40);
  assert.deepEqual(
    result.goodput?.secondLook.map((s) => [s.knobs.c, s.point.rate]),
    [[1, 20], [2, 20], [4, 28], [6, 32]],
    'each suggestion is measured at the winner\'s goodput when it was made',
  );
});
