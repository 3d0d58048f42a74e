// Actor workers start from the built runtime, with the parent's flags minus what would load TypeScript.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
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
