// Actor workers start from the built runtime, with the parent's flags minus what would load TypeScript.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { builtModule } from '../src/index.ts';
import { workerEntry, workerExecArgv } from '../src/host/threads/worker-entry.ts';

test('workers drop the source condition and tsx, and keep every other flag', () => {
  assert.deepEqual(
    workerExecArgv(['--conditions=asap-source', '--import', 'tsx', '--max-old-space-size=512', '--conditions', 'asap-source', '-C', 'other']),
    ['--max-old-space-size=512', '-C', 'other'],
  );
  assert.deepEqual(workerExecArgv(['--import=tsx', '--require', 'tsx/cjs', '--enable-source-maps', '--import', './setup.mjs']), [
    '--enable-source-maps',
    '--import',
    './setup.mjs',
  ]);
});

test('from the sources, the worker entry is the built one in dist/', () => {
  const entry = workerEntry();
  assert.match(entry.pathname, /\/dist\/host\/threads\/worker\.js$/);
  assert.ok(existsSync(fileURLToPath(entry)));
});

test('builtModule: src/…/x.ts becomes dist/…/x.js when that is built and not older; anything else stays', async () => {
  const root = await mkdtemp(join(tmpdir(), 'asap-built-'));
  try {
    await mkdir(join(root, 'src', 'ranks'), { recursive: true });
    await mkdir(join(root, 'dist', 'ranks'), { recursive: true });
    const source = join(root, 'src', 'ranks', 'rank.ts');
    const built = join(root, 'dist', 'ranks', 'rank.js');
    await writeFile(source, 'export {};');
    assert.equal(builtModule(source).href, pathToFileURL(source).href, 'not built yet');
    await writeFile(built, 'export {};');
    await utimes(source, 1000, 1000);
    assert.equal(builtModule(pathToFileURL(source)).href, pathToFileURL(built).href);
    assert.equal(builtModule(pathToFileURL(source).href).href, pathToFileURL(built).href);
    await utimes(source, Date.now() / 1000 + 60, Date.now() / 1000 + 60);
    assert.equal(builtModule(source).href, pathToFileURL(source).href, 'a source edited after the build is used as it is');
    const named = new URL('./rank.ts', pathToFileURL(built));
    assert.equal(builtModule(named).href, pathToFileURL(built).href, 'a .ts name inside dist/ is its .js');
    const plain = join(root, 'actor.mjs');
    assert.equal(builtModule(plain).href, pathToFileURL(plain).href);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
