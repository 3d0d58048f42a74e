// Metric arithmetic on hand-made request logs: percentiles, SLO interpolation and attainment, SLO
// throughput, the goodput search on a synthetic attainment curve, rank usage by rank and by role, the ideal bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RankReport } from '@asap/actors';
import { searchGoodput } from '../src/metrics/goodput.ts';
import { percentile, percentiles } from '../src/metrics/percentile.ts';
import { idealBound, rankUsage, roleUsage } from '../src/metrics/ranks.ts';
import type { RequestRecord } from '../src/metrics/request-log.ts';
import { attainment, attainmentByLength, sloThroughput, unloadedTtftAt } from '../src/metrics/slo.ts';

const record = (id: number, promptTokens: number, ttftMs: number): RequestRecord => ({ id, promptTokens, ttftMs, arrivalMs: 0, firstToken: 0, rank: 'rank-0' });

test('percentiles interpolate between closest ranks', () => {
  assert.equal(percentile([4, 1, 3, 2], 0.5), 2.5);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), 9.1);
  assert.equal(percentile([7], 0.99), 7);
  assert.ok(Number.isNaN(percentile([], 0.5)));
  const values = Array.from({ length: 101 }, (_, i) => 100 - i); // 0..100 reversed
  assert.deepEqual(percentiles(values), { p50: 50, p90: 90, p99: 99 });
  assert.throws(() => percentile([1], 1.5), /q must be in \[0, 1\]/);
});

test('unloaded TTFT is piecewise linear in the length, extended by the end segments', () => {
  const curve = { lengths: [100, 200, 400], ttftMs: [10, 20, 60] };
  assert.equal(unloadedTtftAt(curve, 100), 10);
  assert.equal(unloadedTtftAt(curve, 150), 15);
  assert.equal(unloadedTtftAt(curve, 300), 40);
  assert.equal(unloadedTtftAt(curve, 500), 80);
  assert.equal(unloadedTtftAt(curve, 50), 10, 'never below the smallest measured TTFT');
});

test('attainment and SLO throughput count requests within sloScale × unloaded TTFT', () => {
  const curve = { lengths: [100, 200], ttftMs: [10, 20] };
  // SLOs at scale 2: 100 tokens → 20 ms, 200 → 40 ms, 150 → 30 ms.
  const log = [record(0, 100, 19), record(1, 100, 21), record(2, 200, 40), record(3, 150, 31)];
  assert.equal(attainment(log, curve, 2), 0.5);
  assert.equal(attainment(log, curve, 5), 1);
  assert.equal(attainment([], curve, 2), 1);
  // Within SLO at scale 2: 100 + 200 tokens over 2 s.
  assert.equal(sloThroughput(log, curve, 2, 2000), 150);
});

test('attainment by prompt length groups requests up to each edge, the rest after the last; empty groups left out', () => {
  const curve = { lengths: [100, 200], ttftMs: [10, 20] };
  // SLOs at scale 2: 50 tokens → 20 ms (the smallest), 100 → 20, 200 → 40, 300 → 60.
  const log = [record(0, 50, 19), record(1, 100, 21), record(2, 200, 40), record(3, 300, 61), record(4, 300, 59)];
  assert.deepEqual(attainmentByLength(log, curve, 2, [100, 150, 250]), [
    { maxTokens: 100, requests: 2, within: 1 },
    { maxTokens: 250, requests: 1, within: 1 },
    { maxTokens: null, requests: 2, within: 1 },
  ]);
  assert.deepEqual(attainmentByLength([], curve, 2), []);
});

test('the goodput search fails a rate past the run\'s own ideal bound, whatever its attainment', async () => {
  // A short run at a loose SLO keeps every request within it up to 64 req/s, but the ranks could do only 12.
  const r = await searchGoodput(async (rate) => ({ attainment: 1, overloaded: rate > 12 }), { start: 4, max: 64, steps: 3 });
  assert.ok(r.goodput > 10 && r.goodput <= 12, String(r.goodput));
  assert.ok(r.points.every((p) => (p.rate > 12 ? p.overloaded === true : !('overloaded' in p))), JSON.stringify(r.points));
});

test('the goodput search finds the knee of a synthetic attainment curve', async () => {
  const knee = 7.3;
  const curve = (rate: number): number => (rate <= knee ? 0.99 : Math.max(0, 0.99 - (rate - knee) * 0.2));
  // Attainment crosses 0.9 at knee + 0.45 = 7.75.
  const r = await searchGoodput(async (rate) => curve(rate), { start: 1, max: 64, steps: 8 });
  assert.ok(Math.abs(r.goodput - 7.75) < 8 / 2 ** 8 + 1e-9, String(r.goodput));
  assert.ok(curve(r.goodput) >= 0.9);
  assert.deepEqual(r.points.map((p) => p.rate), [...r.points.map((p) => p.rate)].sort((a, b) => a - b));
  // Failing from the start: halves down; nothing passing gives 0.
  const low = await searchGoodput(async (rate) => (rate <= 0.3 ? 1 : 0), { start: 4, max: 64, steps: 6 });
  assert.ok(low.goodput > 0.25 && low.goodput <= 0.3, String(low.goodput));
  // Few bisection steps still halve far enough to find a low knee (10 → 0.156), and bisect from there.
  const far = await searchGoodput(async (rate) => (rate <= 0.2 ? 1 : 0), { start: 10, max: 64, steps: 2 });
  assert.ok(far.goodput >= 0.156 && far.goodput <= 0.2, String(far.goodput));
  const none = await searchGoodput(async () => 0, { start: 1, max: 8, steps: 2 });
  assert.equal(none.goodput, 0);
  assert.equal(none.points.length, 7, 'the start and six halvings');
  // Passing everywhere: the max.
  assert.equal((await searchGoodput(async () => 1, { start: 1, max: 8, steps: 2 })).goodput, 8);
});

test('the goodput search from a known rate climbs the start\'s lattice one step at a time; one that fails there searches from the start', async () => {
  // Keeps the SLO up to 60 req/s. The search from 10 (2 steps) tries 10, 20, 40, 80, 60, 70 and finds 60; a
  // search from 50 must try 60 (doubling would try 100, 75, 62.5 and stop at 50).
  const keepsTo60 = async (rate: number): Promise<number> => (rate <= 60 ? 1 : 0.5);
  const climbed = await searchGoodput(keepsTo60, { start: 10, from: 50, max: 160, steps: 2 });
  assert.equal(climbed.goodput, 60);
  assert.deepEqual(climbed.points.map((p) => p.rate), [50, 60, 70]);
  // Across an octave: from 70 the next rates are 80, 100, 120 (the octave 80–160 in quarters).
  const across = await searchGoodput(async (rate) => (rate <= 100 ? 1 : 0.5), { start: 10, from: 70, max: 160, steps: 2 });
  assert.deepEqual(across.points.map((p) => p.rate), [70, 80, 100, 120]);
  assert.equal(across.goodput, 100);
  const fromFailing = await searchGoodput(keepsTo60, { start: 10, from: 90, max: 160, steps: 2 });
  assert.equal(fromFailing.goodput, 60);
  assert.deepEqual(fromFailing.points.map((p) => p.rate), [10, 20, 40, 60, 70, 80, 90]);
});

test('rank usage is the difference of two stats snapshots over the window; the ideal bound spreads kernel time', () => {
  const report = (rank: string, computeMs: number, activeMs: number, barrierWaitMs: number, idleMs: number, tokens: number): RankReport => ({
    rank, steps: 0, tokens, computeMs, activeMs, barrierWaitMs, queueWaitMs: 0, idleMs, kernelShare: 0, expertCalls: 0, expertRows: 0, kvBytes: 0, queuedTokens: 0,
  });
  const before = [report('rank-0', 100, 110, 10, 50, 1000), report('rank-1', 100, 120, 10, 50, 1000)];
  const after = [report('rank-0', 900, 1060, 60, 50, 5000), report('rank-1', 500, 680, 410, 90, 3000)];
  const u = rankUsage(before, after, 1000);
  assert.deepEqual(u.map((x) => [x.computeMs, x.barrierWaitMs, x.idleMs, x.tokens]), [[800, 50, 0, 4000], [400, 400, 40, 2000]]);
  assert.equal(u[0].utilization, 0.8);
  assert.equal(u[1].utilization, 0.4);
  // Kernel share: kernel time over the time the rank's thread ran code.
  assert.equal(u[0].kernelShare, 800 / 950);
  assert.equal(u[1].kernelShare, 400 / 560);
  // 1,200 ms of kernels over 2 ranks: 0.6 s for 6,000 tokens and 12 requests.
  const ideal = idealBound(u, 6000, 12);
  assert.ok(Math.abs(ideal.tokensPerS - 10_000) < 1e-6 && Math.abs(ideal.requestsPerS - 20) < 1e-9, JSON.stringify(ideal));
});

test('the ideal bound of a split: each role\'s kernel time over its own ranks, the busiest role sets it', () => {
  const usage = (rank: string, computeMs: number) => ({
    rank, tokens: 0, computeMs, barrierWaitMs: 0, queueWaitMs: 0, idleMs: 0, utilization: 0, kernelShare: 0, expertCalls: 0, expertRows: 0,
  });
  // 3 attention ranks with 300 ms of kernels in all, 1 expert rank with 500 ms: spread over all four it would be
  // 200 ms each; the expert rank alone needs 500 ms, so 10 requests take 0.5 s at best.
  const split = [usage('attn-0', 100), usage('attn-1', 150), usage('attn-2', 50), usage('expert-0', 500)];
  const ideal = idealBound(split, 1000, 10);
  assert.ok(Math.abs(ideal.requestsPerS - 20) < 1e-9 && Math.abs(ideal.tokensPerS - 2000) < 1e-6, JSON.stringify(ideal));
  // The same kernel time on colocated ranks (one role) spreads over all four.
  const colocated = split.map((u, i) => ({ ...u, rank: `rank-${i}` }));
  assert.ok(Math.abs(idealBound(colocated, 1000, 10).requestsPerS - 50) < 1e-9);
});

test('role usage groups ranks by name without index: utilization spread and rows per expert call', () => {
  const usage = (rank: string, utilization: number, expertCalls: number, expertRows: number) => ({
    rank, tokens: 0, computeMs: 0, barrierWaitMs: 0, queueWaitMs: 0, idleMs: 0, utilization, kernelShare: 0, expertCalls, expertRows,
  });
  const roles = roleUsage([usage('attn-0', 0.4, 0, 0), usage('expert-0', 0.8, 10, 500), usage('attn-1', 0.6, 0, 0), usage('expert-1', 0.7, 30, 700)]);
  assert.deepEqual(roles, [
    { role: 'attn', ranks: 2, utilization: { mean: 0.5, min: 0.4, max: 0.6 }, rowsPerExpertCall: 0 },
    { role: 'expert', ranks: 2, utilization: { mean: 0.75, min: 0.7, max: 0.8 }, rowsPerExpertCall: 30 },
  ]);
});
