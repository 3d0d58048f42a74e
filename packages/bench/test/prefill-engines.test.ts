// `asap prefill --engine sync|asap`: the same JSON contract as the reference engine, bit for bit, and
// `--trace` writing a Perfetto trace whose spans show the sync barrier and asap's expert queueing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const MAIN = join(HERE, '..', 'src', 'cli', 'main.ts');
const MODEL = join(HERE, '..', '..', 'actors', 'test', 'fixtures', 'qwen2_moe-F32');
const TOKENS = Array.from({ length: 37 }, (_, i) => (i * 13 + 5) % 200).join(',');

async function asapJson(...args: string[]): Promise<{ firstToken: number; logits: number[] }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, 'prefill', '--model', MODEL, '--tokens', TOKENS, '--json', ...args]);
  return JSON.parse(stdout);
}

let dir = '';
let reference: { firstToken: number; logits: number[] };
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'asap-prefill-'));
  reference = await asapJson('--engine', 'reference');
});
after(() => rm(dir, { recursive: true, force: true }));

const runs: ReadonlyArray<readonly [string, string[], 'barrier' | 'none']> = [
  ['sync, 2 ranks, threads', ['--engine', 'sync', '--ranks', '2', '--token-budget', '16'], 'barrier'],
  ['asap, 1 attention + 2 expert ranks, threads', ['--engine', 'asap', '--attention-ranks', '1', '--expert-ranks', '2'], 'none'],
  ['asap colocated, 2 ranks, sim', ['--engine', 'asap', '--placement', 'colocated', '--ranks', '2', '--host', 'sim'], 'none'],
];

for (const [name, args, barrier] of runs) {
  test(`${name}: JSON equal to the reference engine's, and a trace`, async () => {
    const trace = join(dir, `${name.replace(/\W+/g, '-')}.json`);
    const out = await asapJson(...args, '--trace', trace);
    assert.deepEqual(out, reference);
    const events = JSON.parse(await readFile(trace, 'utf8')).traceEvents as { cat: string; ph: string; args?: { requests?: number[] } }[];
    const spans = events.filter((e) => e.ph === 'X');
    assert.ok(spans.some((e) => e.cat === 'compute' && (e.args?.requests ?? []).includes(0)), 'compute spans name the request');
    assert.equal(spans.some((e) => e.cat === 'barrier-wait'), barrier === 'barrier');
  });
}
