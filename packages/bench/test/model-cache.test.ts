// The embedded model cache repairs itself after each kind of damage and removes what interrupted runs left.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadModel } from '@asap/actors';
import { type CachedModel, cachedModelDir } from '../src/cli/default-model.ts';

const MODEL: CachedModel = { arch: 'qwen3_moe', preset: 'tiny', seed: 1 };
let root: string;
let pristine: Buffer;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'asap-cache-test-'));
  pristine = await readFile(join(await cachedModelDir(MODEL, root), 'model.safetensors'));
});
after(() => rm(root, { recursive: true, force: true }));

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid as number;
}

async function repairedAfter(damage: (dir: string) => Promise<void>): Promise<void> {
  const dir = join(root, 'qwen3_moe-tiny-seed1');
  await damage(dir);
  assert.equal(await cachedModelDir(MODEL, root), dir);
  assert.deepEqual(await readFile(join(dir, 'model.safetensors')), pristine, 'the entry is whole again, byte for byte');
  await loadModel(dir);
  assert.deepEqual((await readdir(root)).filter((n) => n.startsWith('.')), [], 'no scratch left behind');
}

test('a cache entry that lost a file is regenerated', () => repairedAfter((dir) => rm(join(dir, 'model.safetensors'))));
test('a truncated model.safetensors is regenerated', () => repairedAfter((dir) => truncate(join(dir, 'model.safetensors'), 1000)));
test('a corrupted config.json is regenerated', () =>
  repairedAfter(async (dir) => {
    const config = await readFile(join(dir, 'config.json'), 'utf8');
    await writeFile(join(dir, 'config.json'), config.replace('"num_hidden_layers":', '"num_hidden_layerz":'));
  }),
);
test('an entry without its manifest (an older cache, or a half-made one) is regenerated', () =>
  repairedAfter((dir) => rm(join(dir, 'asap-cache.json'))),
);
test('a header overwritten with garbage (same size) is regenerated', () =>
  repairedAfter(async (dir) => {
    const bytes = await readFile(join(dir, 'model.safetensors'));
    bytes.fill(0x20, 8, 64);
    await writeFile(join(dir, 'model.safetensors'), bytes);
  }),
);

test('staging left by an interrupted run (killed mid-generation) is removed; a live run\'s is kept', async () => {
  const dead = join(root, `.staging-${deadPid()}-abc123`);
  const live = join(root, `.staging-${process.pid}-def456`);
  const legacy = join(root, '.staging-Xy12Zz');
  for (const d of [dead, live, legacy]) {
    await mkdir(d);
    await writeFile(join(d, 'model.safetensors'), 'partial');
  }
  const hoursAgo = (Date.now() - 2 * 60 * 60 * 1000) / 1000;
  await utimes(legacy, hoursAgo, hoursAgo);
  await cachedModelDir(MODEL, root);
  assert.deepEqual((await readdir(root)).filter((n) => n.startsWith('.')), [`.staging-${process.pid}-def456`]);
  await rm(live, { recursive: true });
});
