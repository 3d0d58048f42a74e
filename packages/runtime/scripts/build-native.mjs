// Builds the native kernels (native/, an N-API addon) with node-gyp against the headers that ship with
// this Node (never downloaded), and copies the addon to build/native/. Where a C++ toolchain, make,
// python3 or the headers are missing, it skips with one line and records why in build/native/unavailable.txt
// (the native backend then reports itself unavailable with that reason); the rest of the build goes on.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// ASAP_NATIVE_OUT: another output folder (the tests run the skip path there, leaving the real build alone).
const out = process.env.ASAP_NATIVE_OUT ?? join(root, 'build', 'native');
const addon = join(out, 'asap_native.node');
const reasonFile = join(out, 'unavailable.txt');

function skip(reason) {
  writeFileSync(reasonFile, `${reason}\n`);
  process.stdout.write(`build-native: skipped, the native backend will be unavailable (${reason})\n`);
  process.exit(0);
}

function has(command, args = ['--version']) {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

mkdirSync(out, { recursive: true });
rmSync(addon, { force: true });
rmSync(reasonFile, { force: true });

if (process.env.ASAP_NATIVE === '0') skip('ASAP_NATIVE=0 in the environment');
// Node's own headers: <prefix>/include/node beside <prefix>/bin/node (node-gyp's --nodedir layout).
const nodedir = dirname(dirname(process.execPath));
if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) skip(`no Node headers at ${join(nodedir, 'include', 'node')}`);
const cxx = process.env.CXX ?? 'c++';
if (!has(cxx)) skip(`no C++ compiler (${cxx})`);
if (!has('make')) skip('no make');
if (!has('python3')) skip('no python3 (node-gyp needs it)');

const require = createRequire(import.meta.url);
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  skip('node-gyp is not installed');
}
const jobs = String(Math.max(1, Math.min(4, (await import('node:os')).availableParallelism())));
const result = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--jobs', jobs, '--loglevel', 'warn'], {
  cwd: join(root, 'native'),
  encoding: 'utf8',
  env: { ...process.env, npm_config_nodedir: nodedir },
});
if (result.status !== 0) {
  process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
  skip(`the C++ build failed (node-gyp exit ${result.status ?? result.signal}; its output is above)`);
}
copyFileSync(join(root, 'native', 'build', 'Release', 'asap_native.node'), addon);
process.stdout.write(`build-native: wrote build/native/asap_native.node\n`);
