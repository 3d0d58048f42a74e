// Report generation on a tiny run: a whole comparison on a tiny generated model under the sim host (sweep
// points in the piscina pool), its HTML naming both engines with SVG charts that parse, and its Perfetto trace.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import { generateModel } from '@asap/actors';
import { reportHtml } from '../src/report/html.ts';
import { traceEvents } from '../src/report/trace.ts';
import { createEngine } from '@asap/actors';
import { type JobResult, runComparisonJob } from '../src/run/comparison-job.ts';
import { drive } from '../src/run/drive.ts';

let dir: string;
let job: JobResult;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'asap-report-'));
  await generateModel({ arch: 'qwen3_moe', preset: 'tiny', seed: 3, out: dir });
  job = await runComparisonJob({
    title: 'tiny comparison',
    model: dir,
    modelName: 'tiny',
    host: 'sim',
    ranks: 2,
    workload: { arrivals: 'poisson', rate: 50, requests: 8, lengths: { kind: 'uniform', min: 4, max: 200 }, maxTokens: 1024, seed: 2 },
    level: 'none',
    goodput: { sloScale: 5, start: 50, max: 400, steps: 1 },
    traceWindowMs: 1e9,
    checkReference: true,
  });
});

after(() => rm(dir, { recursive: true, force: true }));

test('the comparison of a tiny run: every figure present, first tokens equal to the reference', () => {
  const { report } = job;
  assert.deepEqual(report.engines.map((e) => e.name), ['sync', 'asap']);
  assert.deepEqual(report.unavailable, []);
  const sync = report.engines[0];
  assert.equal(sync.records.length, 8);
  assert.equal(sync.summary.requests, 8);
  assert.ok(sync.summary.ttftMs.p50 > 0 && sync.summary.ttftMs.p50 <= sync.summary.ttftMs.p90 && sync.summary.ttftMs.p90 <= sync.summary.ttftMs.p99);
  assert.ok(sync.summary.attainment['2'] <= sync.summary.attainment['5'] && sync.summary.attainment['5'] <= sync.summary.attainment['10']);
  assert.equal(sync.summary.ranks.length, 2);
  assert.ok(sync.summary.ideal.tokensPerS >= sync.summary.tokensPerS);
  assert.match(sync.configuration, /tokenBudget 512/);
  assert.ok((sync.goodput?.points.length ?? 0) >= 2);
  for (const e of job.engines) {
    const g = e.goodput;
    assert.ok(g && (g.rate === 0 ? g.idealAtGoodput === undefined : (g.idealAtGoodput ?? 0) > 0), `${e.name}: the ideal bound of its run at the goodput rate`);
  }
  assert.deepEqual(report.reference, { requests: 8, mismatches: { sync: [], asap: [] } });
  const asap = report.engines[1];
  assert.equal(asap.records.length, 8);
  assert.equal(asap.summary.ranks.length, 2);
});

test('the HTML report names both engines and its SVG charts parse', async () => {
  const html = await reportHtml(job.report, job.engines);
  assert.match(html, /<b>sync<\/b>: sync \(2 ranks on sim/);
  assert.match(html, /<b>asap<\/b>: asap/);
  const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
  assert.equal(svgs.length, 5);
  for (const svg of svgs) assert.equal(XMLValidator.validate(svg), true);
  assert.match(svgs[0], /TTFT CDF/);
});

test('the trace has one track per rank, barrier-wait spans and request ids in args', () => {
  const sync = job.engines[0];
  const events = traceEvents(sync.result.spans, 'sync', ['rank-0', 'rank-1']);
  const names = events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args?.name);
  assert.deepEqual(names, ['rank-0', 'rank-1']);
  const spans = events.filter((e) => e.ph === 'X');
  assert.ok(spans.some((e) => e.cat === 'barrier-wait'), 'the baseline waits at barriers');
  assert.ok(spans.some((e) => e.cat === 'compute' && Array.isArray(e.args?.requests)));
  assert.ok(spans.every((e) => (e.dur ?? -1) >= 0 && (e.tid === 1 || e.tid === 2)));
});

test('requests are sent at their arrival times on the engine clock: exactly, in virtual time, under sim', async () => {
  const engine = await createEngine({ model: dir, engine: 'sync', host: 'sim', ranks: 2, spans: false });
  try {
    const requests = [0, 250, 1000, 1000.5].map((arrivalMs, id) => ({ id, arrivalMs, promptTokens: 10 + id }));
    const { records, elapsedMs } = await drive(engine, requests, { vocabSize: 256, seed: 1 });
    assert.deepEqual(records.map((r) => r.arrivalMs), [0, 250, 1000, 1000.5]);
    assert.ok(records.every((r) => r.ttftMs > 0 && r.ttftMs < 250), JSON.stringify(records.map((r) => r.ttftMs)));
    assert.ok(elapsedMs > 1000 && elapsedMs < 1250, String(elapsedMs));
  } finally {
    await engine.close();
  }
});
