// `asap demo`, the main job, on a short workload: its results are checked against the reference forward run
// here (not the wording of its output), and its HTML report is written.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createEngine, readModelConfig } from '@asap/actors';
import { defaultModelDir } from '../src/cli/default-model.ts';
import type { ComparisonReport } from '../src/report/comparison.ts';
import { promptIds } from '../src/workload/request.ts';
import { buildWorkload } from '../src/workload/spec.ts';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.ts');

test('asap demo: every engine\'s first tokens equal the reference forward\'s; the report is written', { timeout: 120_000 }, async () => {
  const out = await mkdtemp(join(tmpdir(), 'asap-demo-'));
  try {
    const args = ['--import', 'tsx', MAIN, 'demo', '--requests', '6', '--rate', '4', '--search', 'none', '--json', '--out', out];
    const { stdout } = await promisify(execFile)(process.execPath, args);
    const report = JSON.parse(stdout) as ComparisonReport;
    assert.ok(report.engines.some((e) => e.name === 'sync'));
    const model = await defaultModelDir();
    const { vocabSize } = await readModelConfig(model);
    const requests = await buildWorkload(report.workload);
    assert.equal(requests.length, 6);
    const reference = await createEngine({ model, engine: 'reference' });
    const expected: number[] = [];
    try {
      for (const r of requests) expected.push((await reference.prefill({ tokens: promptIds(r, vocabSize, report.workload.seed) })).firstToken);
    } finally {
      await reference.close();
    }
    for (const e of report.engines) {
      assert.deepEqual(e.records.map((r) => r.id), requests.map((r) => r.id), `${e.name}: every request answered`);
      assert.deepEqual(e.records.map((r) => r.firstToken), expected, `${e.name}: first tokens`);
      assert.ok(e.records.every((r, i) => r.promptTokens === requests[i].promptTokens && r.ttftMs > 0));
    }
    assert.ok(Object.values(report.reference?.mismatches ?? { none: [0] }).every((ids) => ids.length === 0));
    const html = await readFile(join(out, 'report.html'), 'utf8');
    for (const e of report.engines) assert.ok(html.includes(`<b>${e.name}</b>`));
    const trace = JSON.parse(await readFile(join(out, 'trace.json'), 'utf8')) as { traceEvents: Array<{ ph: string }> };
    assert.ok(trace.traceEvents.some((e) => e.ph === 'X'));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('asap demo refuses a bad option with a clear error', { timeout: 60_000 }, async () => {
  await assert.rejects(promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, 'demo', '--requests', 'many']), (e: unknown) => {
    const { code, stderr } = e as { code: number; stderr: string };
    return code === 1 && /--requests must be a positive number, got "many"/.test(stderr);
  });
});
