import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HARDWARE_PROFILES, type HardwareProfile, HardwareProfileError, hardwareProfile, simCosts } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'asap-profile-'));
function file(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

const LOCAL: HardwareProfile = {
  name: 'local',
  models: 'a test machine',
  device: {
    peakFlopsPerS: 100e9,
    memoryBytesPerS: 20e9,
    computeEfficiency: 0.5,
    memoryEfficiency: 0.5,
    overheadUs: 10,
    ops: { experts: { compute: 0.25, overheadUs: 30 } },
  },
  link: { latencyUs: 20, bytesPerS: 10e9, efficiency: 0.5 },
  measured: { note: 'kept as is' },
};

test('profiles: the built-ins carry the published figures', () => {
  assert.deepEqual(HARDWARE_PROFILES, ['h200', 'cm384']);
  const cm = hardwareProfile('cm384');
  assert.equal(cm.device.peakFlopsPerS, 752e12);
  assert.equal(cm.device.memoryBytesPerS, 3.2e12);
  assert.equal(cm.link.bytesPerS, 392e9);
  const h = hardwareProfile('h200');
  assert.equal(h.device.peakFlopsPerS, 989e12);
  assert.equal(h.device.memoryBytesPerS, 4.8e12);
  assert.equal(h.link.bytesPerS * 2, 900e9, 'NVLink 4: 900 GB/s both ways together');
});

test('profiles: a typical cm384 dispatch message lands near xDeepServe\'s 172 µs', () => {
  const { link } = simCosts(hardwareProfile('cm384'));
  // One attention rank's 256-token micro-batch, 8 routed rows a token, to one of 192 expert ranks, bf16 rows.
  const bytes = ((256 * 8) / 192) * 7168 * 2;
  const us = (link.latencyMs + bytes / (link.gbps * 1e6)) * 1e3;
  assert.ok(Math.abs(us - 172) / 172 < 0.05, `${us.toFixed(1)} µs`);
});

test('profiles: simCosts is the roofline with per-op efficiency and overhead', () => {
  const { deviceCost, link } = simCosts(LOCAL);
  // attention: compute 1e9 / (100e9 × 0.5) = 20 ms; memory 1e8 / (20e9 × 0.5) = 10 ms; + 0.01 ms.
  assert.equal(deviceCost({ name: 'attention', flops: 1e9, bytes: 1e8 }, 'r0'), 0.01 + 20);
  // combine: memory-bound, 1e9 / 10e9 = 100 ms.
  assert.equal(deviceCost({ name: 'combine', flops: 1e6, bytes: 1e9 }, 'r0'), 0.01 + 100);
  // experts at its own efficiency and overhead: 1e9 / 25e9 = 40 ms + 0.03 ms.
  assert.ok(Math.abs(deviceCost({ name: 'experts', flops: 1e9, bytes: 0 }, 'r0') - 40.03) < 1e-9);
  assert.equal(deviceCost({ name: 'embed' }, 'r0'), 0.01, 'an op without figures costs its overhead');
  assert.deepEqual(link, { latencyMs: 0.02, gbps: 5 });
});

test('profiles: an op after an idle spell pays the wake cost, saturating with the idle time', () => {
  const { deviceCost } = simCosts({ ...LOCAL, device: { ...LOCAL.device, wake: { us: 6000, tauMs: 30 } } });
  const op = { name: 'embed' };
  assert.equal(deviceCost(op, 'r0', 0), 0.01, 'queued behind another op: nothing');
  assert.ok(Math.abs(deviceCost(op, 'r0', 30) - (0.01 + 6 * (1 - Math.exp(-1)))) < 1e-12);
  assert.ok(Math.abs(deviceCost(op, 'r0', 1e6) - 6.01) < 1e-12, 'a long pause: the whole cost');
  assert.equal(simCosts(LOCAL).deviceCost(op, 'r0', 1e6), 0.01, 'a profile without one: nothing');
});

test('profiles: a JSON file loads, and is checked field by field', () => {
  assert.deepEqual(hardwareProfile(file('ok.json', LOCAL)), LOCAL);
  const bad = (name: string, value: unknown, message: RegExp): void =>
    assert.throws(() => hardwareProfile(file(name, value)), (e: unknown) => e instanceof HardwareProfileError && message.test(e.message) && e.message.includes(name));
  bad('peak.json', { ...LOCAL, device: { ...LOCAL.device, peakFlopsPerS: 0 } }, /device\.peakFlopsPerS must be a positive number, got 0/);
  bad('latency.json', { ...LOCAL, link: { ...LOCAL.link, latencyUs: '5' } }, /link\.latencyUs must be a non-negative number, got "5"/);
  bad('op.json', { ...LOCAL, device: { ...LOCAL.device, ops: { expert: { compute: -1 } } } }, /device\.ops\.expert\.compute must be a positive number/);
  bad('extra.json', { ...LOCAL, device: { ...LOCAL.device, gflops: 3 } }, /device has unknown field gflops/);
  bad('wake.json', { ...LOCAL, device: { ...LOCAL.device, wake: { us: 5, tauMs: 0 } } }, /device\.wake\.tauMs must be a positive number, got 0/);
  bad('wake-extra.json', { ...LOCAL, device: { ...LOCAL.device, wake: { us: 5, tauMs: 1, after: 2 } } }, /device\.wake has unknown field after/);
  assert.deepEqual(hardwareProfile(file('wake-ok.json', { ...LOCAL, device: { ...LOCAL.device, wake: { us: 5, tauMs: 1 } } })).device.wake, { us: 5, tauMs: 1 });
  bad('no-link.json', { ...LOCAL, link: undefined }, /link must be an object/);
  bad('name.json', { ...LOCAL, name: '' }, /name must be a non-empty string/);
  bad('text.json', '{ not json', /not JSON/);
  assert.throws(() => hardwareProfile('tpu'), /tpu: no such file; not a built-in profile either \(built-in: h200, cm384\)/);
});
