// The sim host is deterministic: the same seed gives the same JSON report, byte for byte.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CONVERSATION_TRACE } from '../src/workload/trace.ts';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.ts');
const ARGS = ['--import', 'tsx', MAIN, 'run', '--engine', 'sync', '--host', 'sim', '--workload', CONVERSATION_TRACE, '--rate', '2', '--seed', '5', '--requests', '6', '--json'];

test('asap run --host sim twice with one seed → byte-identical JSON', { timeout: 120_000 }, async () => {
  const [a, b] = [await promisify(execFile)(process.execPath, ARGS), await promisify(execFile)(process.execPath, ARGS)];
  assert.equal(a.stdout, b.stdout);
  const report = JSON.parse(a.stdout) as { records: unknown[]; summary: { requests: number; ttftMs: { p50: number } } };
  assert.equal(report.records.length, 6);
  assert.ok(report.summary.ttftMs.p50 > 0);
  const other = await promisify(execFile)(process.execPath, ARGS.map((x) => (x === '5' ? '6' : x)));
  assert.notEqual(other.stdout, a.stdout, 'another seed, another workload');
});

test('asap run refuses a malformed trace, naming the line', { timeout: 60_000 }, async () => {
  const bad = join(dirname(fileURLToPath(import.meta.url)), 'bad-trace.csv');
  const { writeFile, rm } = await import('node:fs/promises');
  await writeFile(bad, 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6,12,1\n2023-11-16 18:15:47.6,twelve,1\n');
  try {
    await assert.rejects(promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, 'run', '--host', 'sim', '--workload', bad]), (e: unknown) => {
      const { code, stderr } = e as { code: number; stderr: string };
      return code === 1 && /line 3: ContextTokens "twelve" is not a whole number/.test(stderr);
    });
  } finally {
    await rm(bad, { force: true });
  }
});
