// `asap sim`: a modelled cluster (hardware profile, DeepSeek-V3 shapes, numerics off). The sweep prints one
// JSON object with each engine's goodput at its best configuration, and the same seed gives the same bytes;
// every figure in it comes from runs, so a run whose engines served nothing cannot pass.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CONVERSATION_TRACE } from '../src/workload/trace.ts';
import type { LengthGroupAttainment } from '../src/metrics/slo.ts';
import type { SimSweepResult } from '../src/report/sim-sweep.ts';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.ts');
const run = promisify(execFile);
const COMMON = ['--profile', 'cm384', '--model', 'deepseek-v3', '--workload', CONVERSATION_TRACE, '--ranks', '4', '--requests', '16', '--seed', '3', '--length-scale', '0.5'];

test('asap sim: one engine on 4 modelled NPUs serves every request, with SLO×2 deadlines; JSON is byte-identical for a seed', { timeout: 240_000 }, async () => {
  const args = ['--import', 'tsx', MAIN, 'sim', ...COMMON, '--engine', 'asap', '--rate', '20', '--slo-scale', '2', '--json'];
  const [a, b] = [await run(process.execPath, args), await run(process.execPath, args)];
  assert.equal(a.stdout, b.stdout);
  const out = JSON.parse(a.stdout) as {
    requests: number;
    deadlineScale: number | null;
    ttftMs: { p50: number };
    tokensPerS: number;
    attainment: Record<string, number>;
    attainmentByLength: LengthGroupAttainment[];
    ideal: { requestsPerS: number };
    simEvents: number;
  };
  assert.equal(out.requests, 16);
  assert.equal(out.deadlineScale, 2);
  assert.ok(out.ttftMs.p50 > 0 && out.tokensPerS > 0 && out.ideal.requestsPerS > 0);
  assert.ok(out.attainment['10'] >= 0 && out.attainment['10'] <= 1);
  // By prompt length at the run's own scale: the groups hold every request, and their within-SLO counts add up to its attainment.
  const groups = out.attainmentByLength;
  assert.equal(groups.reduce((n, g) => n + g.requests, 0), 16);
  assert.equal(groups.reduce((n, g) => n + g.within, 0), Math.round(out.attainment['2'] * 16));
  assert.ok(out.simEvents > 1000, `${out.simEvents} events`);
  await assert.rejects(run(process.execPath, ['--import', 'tsx', MAIN, 'sim', ...COMMON, '--engine', 'asap', '--yardstick', 'none', '--slo-scale', '2']), (e: unknown) =>
    /--slo-scale needs the unloaded TTFT curve/.test((e as { stderr: string }).stderr),
  );
});

test('asap sim --sweep --json: goodput of both engines, their ratio, the ideal bound, what each chose', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'asap-sim-'));
  try {
    const args = ['--import', 'tsx', MAIN, 'sim', ...COMMON, '--sweep', '--slo-scale', '5', '--rate', '10', '--max-rate', '40', '--steps', '1', '--finalists', '1', '--out', dir, '--json'];
    const { stdout } = await run(process.execPath, args);
    const r = JSON.parse(stdout) as SimSweepResult;
    assert.equal(r.sloScale, 5);
    for (const engine of ['sync', 'asap'] as const) {
      assert.ok(r.goodput[engine] >= 0 && r.goodput[engine] <= 40);
      assert.ok(r.ideal[engine] > 0, `${engine}: an ideal bound from its kernel time`);
      assert.ok(Object.keys(r.best[engine]).length > 0);
      assert.ok(r.attainment.some((p) => p.engine === engine && p.rate > 0 && p.attainment >= 0 && p.attainment <= 1));
      const searches = r.searches.filter((f) => f.engine === engine);
      assert.ok(searches.length >= 1, `${engine}: at least its finalist's search`);
      assert.equal(Math.max(...searches.map((f) => f.goodput)), r.goodput[engine], `${engine}: its goodput is its best search's`);
    }
    assert.equal(r.ratio, r.goodput.sync > 0 ? r.goodput.asap / r.goodput.sync : null);
    assert.equal(r.idealBound, Math.max(r.ideal.sync, r.ideal.asap));
    assert.ok(r.searched.filter((s) => s.engine === 'sync').length === 8, 'sync: budgets 256..16K, with and without TBO');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
