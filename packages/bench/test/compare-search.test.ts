// The configuration search with goodput: the finalists' goodput, then a second look at every other
// candidate at the winner's goodput, so a configuration that ranked low at the search's rate but goes
// further is not missed. A fake point runner stands in for the engines: each configuration keeps the SLO up
// to a rate of its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunSummary } from '../src/metrics/summary.ts';
import { compareEngines } from '../src/run/compare.ts';
import { SYNC } from '../src/run/engines.ts';
import type { PointTask } from '../src/run/point.ts';
import type { PointRunner } from '../src/run/point-runner.ts';

/** Configuration c keeps the SLO up to CAPS[c] req/s; at the search's rate c = 0 has the best p90. */
const CAPS = [20, 10, 35, 5];

function fakeRunner(log: Array<[number, number]>): PointRunner {
  return {
    async run(task: PointTask) {
      const c = task.setup.knobs.c as number;
      const rate = task.workload.rate;
      log.push([c, rate]);
      const kept = rate <= CAPS[c] ? 1 : 0.5;
      const attainment = { '2': kept, '5': kept, '10': kept };
      const summary = { setup: task.setup, attainment, ttftMs: { p50: 1, p90: 100 + 10 * c, p99: 1 }, ideal: { tokensPerS: 1, requestsPerS: 100 * (c + 1) + rate } } as unknown as RunSummary;
      return { summary, records: [], spans: [] };
    },
    async close() {},
  };
}

test('goodput search: a candidate the first ranking missed gets its own search when it keeps the SLO at the winner\'s goodput', async () => {
  const log: Array<[number, number]> = [];
  const family = { ...SYNC, candidates: () => CAPS.map((_, c) => ({ c })) };
  const [result] = await compareEngines([family], fakeRunner(log), {
    model: 'm',
    vocabSize: 1,
    host: 'sim',
    ranks: 2,
    workload: { arrivals: 'poisson', rate: 10, requests: 1, lengths: { kind: 'fixed', tokens: 1 }, seed: 1 } as never,
    curve: { lengths: [1], ttftMs: [1] },
    level: 'full',
    goodput: { sloScale: 5, start: 4, max: 64, steps: 2, finalists: 1 },
  });
  // Ranked at 4 req/s (all keep the SLO): c = 0 has the lowest p90, and its search finds 20 (4, 8, 16 pass;
  // 32, 24 fail; 20 passes). At 20 req/s c = 1 and c = 3 fail, c = 2 keeps the SLO: its search from 20 finds
  // 35 (40 fails; 30 and 35 pass).
  assert.deepEqual(result.best.knobs, { c: 2 });
  assert.equal(result.goodput?.rate, 35);
  assert.equal(result.goodput?.idealAtGoodput, 335, 'the ideal bound of the run at the goodput rate');
  assert.equal(log.filter(([c, rate]) => c === 2 && rate === 20).length, 1, 'the challenger\'s run at the winner\'s goodput is not repeated');
});
