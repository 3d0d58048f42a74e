// `asap demo`: the main job prefills the embedded default model, then runs both hosts from the same actor
// modules and agrees with itself.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.ts');

test('asap demo prints figures for both hosts and identical results', { timeout: 120_000 }, async () => {
  const args = ['--conditions=asap-source', '--import', 'tsx', MAIN, 'demo', '--jobs', '3', '--rows', '24', '--dim', '32', '--batch', '8', '--pings', '10'];
  const { stdout } = await promisify(execFile)(process.execPath, args);
  assert.match(stdout, /default model: qwen3_moe preset "small" seed 1/);
  assert.equal(stdout.match(/prompt +\d+ tokens: TTFT +[\d.]+ ms, +[\d,]+ tokens\/s, first token \d+/g)?.length, 3);
  assert.match(stdout, /threads host: one worker per actor/);
  assert.match(stdout, /sim host: the same actor modules/);
  assert.equal(stdout.match(/ping round trip front→back→front, 10 pings: p50 /g)?.length, 2);
  assert.equal(stdout.match(/pipeline: 3 jobs in /g)?.length, 2);
  assert.match(stdout, /back-0 +\d+ +\d+ /);
  assert.match(stdout, /results: 3 jobs identical bit for bit under the two hosts/);
});

test('asap demo refuses a bad option with a clear error', { timeout: 60_000 }, async () => {
  await assert.rejects(promisify(execFile)(process.execPath, ['--conditions=asap-source', '--import', 'tsx', MAIN, 'demo', '--jobs', 'many']), (e: unknown) => {
    const { code, stderr } = e as { code: number; stderr: string };
    return code === 1 && /--jobs must be a positive integer, got "many"/.test(stderr);
  });
});
