// The calibration's arithmetic on made-up timings (no timing here): the roofline fit recovers known rates,
// the profile transforms, profile names, and the fidelity page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type HardwareProfile, simCosts } from '@asap/runtime';
import { fitOp } from '../src/calibrate/fit.ts';
import { withKernelScale, withOverhead } from '../src/calibrate/host-overhead.ts';
import { PROFILE_NAMES, localProfilePath, resolveProfile } from '../src/calibrate/local-profile.ts';
import type { OpPoint } from '../src/calibrate/op-timings.ts';
import { withWake } from '../src/calibrate/wake-cost.ts';
import { fidelitySection } from '../src/report/fidelity.ts';

test('calibrate: the roofline fit recovers the rates and overhead the points were made with', () => {
  // 50 GFLOP/s, 10 GB/s, 200 µs: small ops memory-bound, large ones compute-bound.
  const points: OpPoint[] = [
    [1e6, 4e6],
    [1e7, 2e7],
    [1e8, 5e7],
    [1e9, 1e8],
    [4e9, 2e8],
  ].map(([flops, bytes]) => ({ op: 'attention', size: '', flops, bytes, contextFlops: 0, ms: 0.2 + Math.max(flops / 5e7, bytes / 1e7) }));
  const fit = fitOp('attention', points);
  assert.equal(fit.contextFlopsPerS, undefined, 'no context FLOPs, no context rate');
  assert.ok(Math.abs(fit.flopsPerS / 50e9 - 1) < 0.05, `${fit.flopsPerS}`);
  assert.ok(Math.abs(fit.bytesPerS / 10e9 - 1) < 0.05, `${fit.bytesPerS}`);
  assert.ok(Math.abs(fit.overheadUs - 200) < 20, `${fit.overheadUs}`);
  assert.ok(fit.rmsLogError < 0.05);
  assert.throws(() => fitOp('experts', points), /no timings of op "experts"/);
});

test('calibrate: attention over a cache gets its own rate, which the fit recovers', () => {
  // Projections at 40 GFLOP/s, context FLOPs at 200 GFLOP/s, 100 µs: whole prompts and chunks after a cache.
  const points: OpPoint[] = [
    [1e7, 1e6],
    [1e8, 2e7],
    [4e8, 1e8],
    [2e8, 4e8],
    [4e8, 2e9],
    [1e8, 1e9],
  ].map(([projections, context]) => ({
    op: 'attention',
    size: '',
    flops: projections + context,
    bytes: 1e5,
    contextFlops: context,
    ms: 0.1 + projections / 4e7 + context / 2e8,
  }));
  const fit = fitOp('attention', points);
  assert.ok(Math.abs(fit.flopsPerS / 40e9 - 1) < 0.05, `${fit.flopsPerS}`);
  assert.ok(Math.abs((fit.contextFlopsPerS ?? 0) / 200e9 - 1) < 0.05, `${fit.contextFlopsPerS}`);
  assert.ok(fit.rmsLogError < 0.05);
  // simCosts charges the same split once a profile carries the context efficiency.
  const profile: HardwareProfile = {
    name: 't',
    models: 't',
    device: { peakFlopsPerS: 400e9, memoryBytesPerS: 1e12, computeEfficiency: 1, memoryEfficiency: 1, overheadUs: 100, ops: { attention: { compute: 0.1, context: 0.5 } } },
    link: { latencyUs: 1, bytesPerS: 1e9, efficiency: 1 },
  };
  const op = { name: 'attention', flops: 5e8, contextFlops: 4e8, bytes: 0 };
  assert.ok(Math.abs(simCosts(profile).deviceCost(op, 'r') - (0.1 + 1e8 / 4e7 + 4e8 / 2e8)) < 1e-9);
  const { context: _, ...oneRate } = profile.device.ops?.attention ?? {};
  const plain = { ...profile, device: { ...profile.device, ops: { attention: oneRate } } };
  assert.equal(simCosts(plain).deviceCost(op, 'r'), 0.1 + 5e8 / 4e7, 'without one, context FLOPs count as any other');
});

test('calibrate: a kernel-time factor and a per-op cost change the sim costs as they say', () => {
  const profile: HardwareProfile = {
    name: 'test',
    models: 'a test',
    device: { peakFlopsPerS: 1e11, memoryBytesPerS: 1e10, computeEfficiency: 0.5, memoryEfficiency: 1, overheadUs: 10, ops: { experts: { compute: 0.25, overheadUs: 100 } } },
    link: { latencyUs: 5, bytesPerS: 1e9, efficiency: 1 },
  };
  const op = { name: 'experts', flops: 1e9, bytes: 0 };
  const base = simCosts(profile).deviceCost(op, 'r'); // 0.1 + 1e9 / 25e9 s = 40.1 ms
  assert.ok(Math.abs(base - 40.1) < 1e-9);
  assert.ok(Math.abs(simCosts(withKernelScale(profile, 2)).deviceCost(op, 'r') - 2 * base) < 1e-9);
  assert.ok(Math.abs(simCosts(withOverhead(profile, 500)).deviceCost(op, 'r') - (base + 0.5)) < 1e-9);
  assert.ok(Math.abs(simCosts(withOverhead(profile, 500)).deviceCost({ name: 'combine' }, 'r') - 0.51) < 1e-9, 'ops without their own entry too');
  // The wake cost is the machine's, not a kernel's: the other fits keep it as it is.
  const woken = withKernelScale(withOverhead(withWake(profile, { us: 4000, tauMs: 50 }), 500), 2);
  assert.deepEqual(woken.device.wake, { us: 4000, tauMs: 50 });
  assert.ok(Math.abs(simCosts(woken).deviceCost(op, 'r', 1e9) - (2 * (base + 0.5) + 4)) < 1e-9, 'a long pause: the whole wake cost, unscaled');
});

test('calibrate: profile names, and "local" before any calibration says how to make it', () => {
  assert.deepEqual(PROFILE_NAMES, ['local', 'h200', 'cm384']);
  assert.match(localProfilePath(), /packages\/bench\/\.calibration\/local\.json$/);
  assert.equal(resolveProfile('cm384').name, 'cm384');
});

test('fidelity: the report section shows measured vs predicted and flags errors past 15%', () => {
  const html = fidelitySection({
    workload: '24 requests',
    profile: 'local',
    repeats: 2,
    results: [
      {
        config: 'sync-2',
        measuredRuns: [{ p50: 100, p90: 200 }, { p50: 110, p90: 220 }],
        measured: { p50: 105, p90: 210 },
        predicted: { p50: 100, p90: 300 },
        error: { p50: 100 / 105 - 1, p90: 300 / 210 - 1 },
      },
    ],
  });
  assert.match(html, /<td>sync-2<\/td><td>p50<\/td><td>105\.0 \(100\.0, 110\.0\)<\/td><td>100\.0<\/td><td style="color:green">-4\.8%<\/td>/);
  assert.match(html, /<td style="color:red">42\.9%<\/td>/);
});
