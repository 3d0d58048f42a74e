// The packages as a user's service gets them: built JavaScript with type declarations, imported by plain
// `node` from a directory outside the workspace. Its results equal the in-workspace reference bit for bit.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateModel, loadModel, referencePrefill } from '@asap/actors';
import { type BackendName, createBackend } from '@asap/runtime';
import { installBuiltPackages } from './support/packed-workspace.ts';

const SERVICE = join(dirname(fileURLToPath(import.meta.url)), 'plain-node');
const TOKENS = [3, 1, 4, 1, 5, 9, 2, 6, 250];

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'asap-plain-node-'));
  await installBuiltPackages(root, ['runtime', 'actors']);
  await cp(SERVICE, root, { recursive: true });
  await cp(join(SERVICE, 'echo-actor.mjs'), join(root, 'echo-actor.ts'));
  await generateModel({ arch: 'qwen3_moe', preset: 'tiny', seed: 7, out: join(root, 'model') });
});
after(() => rm(root, { recursive: true, force: true }));

test('plain node outside the workspace imports both packages, prefills, runs a worker and both engines', { timeout: 120_000 }, async () => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const { stdout } = await promisify(execFile)(process.execPath, ['service.mjs', join(root, 'model'), TOKENS.join(',')], { cwd: root, env });
  const out = JSON.parse(stdout) as {
    reference: Record<BackendName, { firstToken: number; logits: number[] }>;
    threads: { startMs: number; reply: unknown };
    engines: Record<'sync' | 'asap', { firstToken: number; logits: number[] }>;
    typescriptActorWithoutTsx: string;
  };
  for (const name of ['js', 'wasm'] as const) {
    const backend = await createBackend(name);
    const expected = referencePrefill(backend, (await loadModel(join(root, 'model'))).model, TOKENS);
    backend.dispose();
    assert.equal(out.reference[name].firstToken, expected.firstToken, `${name}: first token`);
    assert.deepEqual(Float32Array.from(out.reference[name].logits), expected.logits, `${name}: logits bit for bit`);
  }
  for (const engine of ['sync', 'asap'] as const) {
    assert.deepEqual(out.engines[engine], out.reference.wasm, `${engine} engine (wasm) equals the wasm reference bit for bit`);
  }
  assert.equal(out.threads.reply, 42);
  assert.match(out.typescriptActorWithoutTsx, /echo-actor\.ts is TypeScript and tsx cannot be found from it: install tsx, or build the module to JavaScript/);
});
