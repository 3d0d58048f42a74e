// `asap gen-model` and `asap prefill --json`: the stdout contract later engines must keep.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadModel, referencePrefill } from '@asap/actors';
import { createBackend } from '@asap/runtime';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.ts');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function asap(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--conditions=asap-source', '--import', 'tsx', MAIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'asap-cli-test-'));
  const gen = await asap('gen-model', '--arch', 'qwen3_moe', '--preset', 'tiny', '--seed', '1', '--out', dir);
  assert.equal(gen.code, 0, gen.stderr);
  assert.match(gen.stdout, /wrote qwen3_moe/);
});
after(() => rm(dir, { recursive: true, force: true }));

test('prefill --json prints exactly {firstToken, logits} and they equal the reference forward', async () => {
  const run = await asap('prefill', '--model', dir, '--tokens', '1,2,3,250', '--engine', 'reference', '--backend', 'js', '--json');
  assert.equal(run.code, 0, run.stderr);
  assert.ok(run.stdout.endsWith('}\n') && run.stdout.indexOf('\n') === run.stdout.length - 1, 'one line of JSON');
  const out = JSON.parse(run.stdout);
  assert.deepEqual(Object.keys(out), ['firstToken', 'logits']);
  const backend = await createBackend('js');
  const expected = referencePrefill(backend, (await loadModel(dir)).model, [1, 2, 3, 250]);
  backend.dispose();
  assert.equal(out.firstToken, expected.firstToken);
  assert.deepEqual(Float32Array.from(out.logits), expected.logits);
});

test('gen-model and prefill --json know deepseek_v3; prefill of the golden fixture gives its first token', async () => {
  const out = join(dir, 'deepseek');
  const gen = await asap('gen-model', '--arch', 'deepseek_v3', '--preset', 'tiny', '--seed', '2', '--out', out);
  assert.equal(gen.code, 0, gen.stderr);
  assert.match(gen.stdout, /wrote deepseek_v3/);
  const generated = await asap('prefill', '--model', out, '--tokens', '4,8,15,16,23,42', '--engine', 'reference', '--json');
  assert.equal(generated.code, 0, generated.stderr);
  assert.equal(JSON.parse(generated.stdout).logits.length, 256);
  const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'actors', 'test', 'fixtures', 'deepseek_v3-F32');
  const cases = JSON.parse(await readFile(join(fixture, 'cases.json'), 'utf8')).cases;
  const c = cases[1];
  const run = await asap('prefill', '--model', fixture, '--tokens', c.tokens.join(','), '--engine', 'reference', '--json');
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).firstToken, c.firstToken);
});

test('prefill errors go to stderr with a non-zero exit and nothing on stdout', async () => {
  const bad = await asap('prefill', '--model', dir, '--tokens', '1,999', '--backend', 'js', '--json');
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /token 999 at position 1 is out of range/);
  const missing = await asap('prefill', '--model', join(dir, 'nope'), '--tokens', '1', '--backend', 'js', '--json');
  assert.match(missing.stderr, /nope: no such directory/);
  const engine = await asap('prefill', '--model', dir, '--tokens', '1', '--engine', 'warp', '--backend', 'js');
  assert.match(engine.stderr, /--engine must be one of .*reference.*, got "warp"/);
});

test('bench prefill --json prints {prefill: [{backend, tokens, tokensPerS, ...}]} per backend and length', async () => {
  const run = await asap('bench', 'prefill', '--model', dir, '--tokens', '4,9', '--backends', 'js,wasm', '--runs', '1', '--json');
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { prefill: Array<{ backend: string; tokens: number; tokensPerS: number }> };
  assert.deepEqual(out.prefill.map((r) => [r.backend, r.tokens]), [['js', 4], ['js', 9], ['wasm', 4], ['wasm', 9]]);
  for (const r of out.prefill) assert.ok(r.tokensPerS > 0 && Number.isFinite(r.tokensPerS));
  const bad = await asap('bench', 'prefill', '--model', dir, '--backends', 'cuda', '--json');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--backends: "cuda" is not available here/);
});
