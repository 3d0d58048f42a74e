// Workloads: trace parsing (good and malformed files), the trace transforms, arrival processes and seeding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '@asap/runtime';
import { gammaArrivals, poissonArrivals } from '../src/workload/arrivals.ts';
import { empiricalLength, mixtureLength, uniformLength } from '../src/workload/lengths.ts';
import { promptIds } from '../src/workload/request.ts';
import { buildWorkload } from '../src/workload/spec.ts';
import { CONVERSATION_TRACE, TraceError, loadTrace, parseTrace } from '../src/workload/trace.ts';
import { sampleRows, scaleLengths, traceRequests, traceWindow } from '../src/workload/transform.ts';

const GOOD = `TIMESTAMP,ContextTokens,GeneratedTokens
2023-11-16 18:15:46.6805900,374,44
2023-11-16 18:15:50.9951690,396,109
2023-11-16 18:15:51.2224670,879,55
`;

test('a good trace parses into times relative to its first request', () => {
  const rows = parseTrace(GOOD, 'good.csv');
  assert.equal(rows.length, 3);
  assert.deepEqual(rows.map((r) => r.contextTokens), [374, 396, 879]);
  assert.deepEqual(rows.map((r) => r.generatedTokens), [44, 109, 55]);
  assert.equal(rows[0].timeMs, 0);
  assert.ok(Math.abs(rows[1].timeMs - 4314.579) < 1e-3, String(rows[1].timeMs));
  assert.ok(Math.abs(rows[2].timeMs - 4541.8770) < 1e-3, String(rows[2].timeMs));
});

test('the shipped conversation trace parses whole', async () => {
  const rows = await loadTrace(CONVERSATION_TRACE);
  assert.equal(rows.length, 19_366);
  assert.equal(Math.max(...rows.map((r) => r.contextTokens)), 14_050);
  assert.ok(rows[rows.length - 1].timeMs > 3_500_000 && rows[rows.length - 1].timeMs < 3_700_000);
});

test('a malformed trace is an error naming the line and the problem', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['time,len\n1,2', 1, /header must be "TIMESTAMP,ContextTokens,GeneratedTokens"/],
    [`${GOOD}2023-11-16 18:15:52.0,12\n`, 5, /expected 3 columns, got 2/],
    [`${GOOD}2023-11-16 18:15:52.0,12x,3\n`, 5, /ContextTokens "12x" is not a whole number/],
    [`${GOOD}2023-11-16 18:15:52.0,0,3\n`, 5, /ContextTokens 0 must be at least 1/],
    [`${GOOD}2023-11-16 18:15:52.0,10,-3\n`, 5, /GeneratedTokens "-3" is not a whole number/],
    [`${GOOD}yesterday,10,3\n`, 5, /TIMESTAMP "yesterday" is not/],
    [`${GOOD}2023-02-30 18:15:52.0,10,3\n`, 5, /TIMESTAMP "2023-02-30 18:15:52.0" is not/],
    [`${GOOD}2023-11-16 18:15:40.0,10,3\n`, 5, /earlier than the line before/],
    [`TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6,1,1\n\n2023-11-16 18:15:47.6,1,1\n`, 3, /empty line inside the trace/],
    ['TIMESTAMP,ContextTokens,GeneratedTokens\n', 2, /no requests/],
  ];
  for (const [text, line, problem] of cases) {
    assert.throws(
      () => parseTrace(text, 'bad.csv'),
      (e: unknown) => e instanceof TraceError && e.line === line && problem.test(e.message) && e.message.startsWith(`trace bad.csv, line ${line}: `),
      `expected line ${line}: ${problem}`,
    );
  }
});

test('window, length scaling, sampling and time scaling', () => {
  const rows = parseTrace(GOOD, 'good.csv');
  const w = traceWindow(rows, 4, 1);
  assert.deepEqual(w.map((r) => r.contextTokens), [396, 879]);
  assert.ok(Math.abs(w[0].timeMs - 314.579) < 1e-3);
  assert.deepEqual(scaleLengths(rows, 0.5, 400).map((r) => r.contextTokens), [187, 198, 400]);
  assert.throws(() => traceWindow(rows, 100, 1), /no request in \[100, 101\)/);
  const picked = sampleRows(rows, 2, new SeededRandom(3));
  assert.equal(picked.length, 2);
  assert.ok(picked[0].timeMs < picked[1].timeMs, 'sampled rows stay in time order');
  assert.deepEqual(sampleRows(rows, 2, new SeededRandom(3)), picked, 'same seed, same sample');
  const requests = traceRequests(rows, 2); // 3 requests at 2 req/s: two gaps averaging 500 ms
  assert.ok(Math.abs(requests[2].arrivalMs - 1000) < 1e-9, String(requests[2].arrivalMs));
  assert.deepEqual(requests.map((r) => r.id), [0, 1, 2]);
});

test('Poisson and bursty arrivals have the asked mean rate; bursty gaps have the asked spread', () => {
  const n = 20_000;
  const gaps = (t: number[]) => t.map((x, i) => x - (i ? t[i - 1] : 0));
  const stats = (g: number[]) => {
    const mean = g.reduce((a, b) => a + b, 0) / g.length;
    const sd = Math.sqrt(g.reduce((a, b) => a + (b - mean) ** 2, 0) / g.length);
    return { mean, cv: sd / mean };
  };
  const p = stats(gaps(poissonArrivals(4, n, new SeededRandom(1))));
  assert.ok(Math.abs(p.mean - 250) < 10 && Math.abs(p.cv - 1) < 0.05, JSON.stringify(p));
  const b = stats(gaps(gammaArrivals(4, 3, n, new SeededRandom(2))));
  assert.ok(Math.abs(b.mean - 250) < 25 && Math.abs(b.cv - 3) < 0.3, JSON.stringify(b));
  assert.deepEqual(poissonArrivals(4, 10, new SeededRandom(9)), poissonArrivals(4, 10, new SeededRandom(9)));
  assert.throws(() => poissonArrivals(0, 10, new SeededRandom(1)), /rate must be a positive number/);
});

test('length distributions and prompts are seeded and in range', () => {
  const r = new SeededRandom(5);
  const mixed = mixtureLength([
    { weight: 0.9, lengths: uniformLength(16, 64) },
    { weight: 0.1, lengths: empiricalLength([2048, 3000]) },
  ]);
  const drawn = Array.from({ length: 2000 }, () => mixed(r));
  assert.ok(drawn.every((x) => (x >= 16 && x <= 64) || x === 2048 || x === 3000));
  const long = drawn.filter((x) => x > 64).length / drawn.length;
  assert.ok(long > 0.07 && long < 0.13, String(long));
  const ids = promptIds({ id: 3, arrivalMs: 0, promptTokens: 50 }, 100, 7);
  assert.deepEqual(ids, promptIds({ id: 3, arrivalMs: 0, promptTokens: 50 }, 100, 7));
  assert.ok(ids.every((t) => t >= 0 && t < 100));
});

test('a workload spec builds the same requests for the same seed, within the context', async () => {
  const spec = { arrivals: 'trace', rate: 3, requests: 40, lengthScale: 1, maxTokens: 8192, seed: 4 } as const;
  const a = await buildWorkload(spec);
  assert.deepEqual(a, await buildWorkload(spec));
  assert.notDeepEqual(a, await buildWorkload({ ...spec, seed: 5 }));
  assert.equal(a.length, 40);
  assert.ok(a.every((r) => r.promptTokens >= 1 && r.promptTokens <= 8192));
  const mean = a[a.length - 1].arrivalMs / (a.length - 1);
  assert.ok(Math.abs(mean - 1000 / 3) < 1e-6, String(mean));
  const bursty = await buildWorkload({ arrivals: 'bursty', cv: 4, rate: 2, requests: 10, lengths: { kind: 'uniform', min: 5, max: 9 }, maxTokens: 8192, seed: 1 });
  assert.ok(bursty.every((r, i) => r.promptTokens >= 5 && r.promptTokens <= 9 && (i === 0 || r.arrivalMs >= bursty[i - 1].arrivalMs)));
});
