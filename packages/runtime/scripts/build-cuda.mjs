// Builds the CUDA kernels (native-cuda/, a second N-API addon, separate from the CPU one so that loading the
// CPU addon never depends on CUDA) with nvcc where it exists, and copies the addon to build/cuda/. One target
// (sm_90 code plus compute_90 PTX), two sources compiled side by side, cudart linked statically: the addon
// loads on a machine without a driver and reports, at run time, why no kernel can run. Without nvcc (or the
// Node headers, or node-addon-api) it skips with one line and records why in build/cuda/unavailable.txt.
// Warnings are errors, so a kernel that drifts is caught on machines with nvcc and no GPU.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// ASAP_CUDA_OUT: another output folder (the tests run the skip path there, leaving the real build alone).
const out = process.env.ASAP_CUDA_OUT ?? join(root, 'build', 'cuda');
const addon = join(out, 'asap_cuda.node');
const reasonFile = join(out, 'unavailable.txt');
const sources = join(root, 'native-cuda', 'src');
const objects = join(root, 'native-cuda', 'build');

function skip(reason) {
  writeFileSync(reasonFile, `${reason}\n`);
  process.stdout.write(`build-cuda: skipped, the cuda backend will be unavailable (${reason})\n`);
  process.exit(0);
}

mkdirSync(out, { recursive: true });
// Up to date (the addon newer than every source and this script): nothing to do. The runtime's tests build
// the package again right after turbo's build; this keeps nvcc to once.
const inputs = [fileURLToPath(import.meta.url), ...readdirSync(sources).map((f) => join(sources, f))];
const newest = Math.max(...inputs.map((f) => statSync(f).mtimeMs));
if (process.env.ASAP_CUDA !== '0' && existsSync(addon) && statSync(addon).mtimeMs > newest) {
  process.stdout.write('build-cuda: build/cuda/asap_cuda.node is up to date\n');
  process.exit(0);
}
rmSync(addon, { force: true });
rmSync(reasonFile, { force: true });

if (process.env.ASAP_CUDA === '0') skip('ASAP_CUDA=0 in the environment');
// NVCC names the compiler; else the one on PATH, else the toolkit's usual home.
const candidates = process.env.NVCC ? [process.env.NVCC] : ['nvcc', '/usr/local/cuda/bin/nvcc'];
const nvcc = candidates.find((c) => {
  const r = spawnSync(c, ['--version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
});
if (!nvcc) skip(`no nvcc (tried ${candidates.join(', ')}; set NVCC to its path)`);
const nodeHeaders = join(dirname(dirname(process.execPath)), 'include', 'node');
if (!existsSync(join(nodeHeaders, 'node_api.h'))) skip(`no Node headers at ${nodeHeaders}`);
let addonApi;
try {
  addonApi = createRequire(import.meta.url)('node-addon-api').include_dir;
} catch {
  skip('node-addon-api is not installed');
}

/** Runs nvcc; resolves to its exit status and output. */
function run(args) {
  return new Promise((resolve) => {
    const child = spawn(nvcc, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (error) => resolve({ status: -1, output: String(error) }));
    child.on('close', (status) => resolve({ status, output }));
  });
}

mkdirSync(objects, { recursive: true });
const started = Date.now();
const common = ['-std=c++17', '-O3', '--Werror', 'all-warnings', '-Xcompiler', '-fPIC,-fvisibility=hidden,-Wall,-Wextra'];
const kernels = join(objects, 'kernels.o');
const host = join(objects, 'addon.o');
const compiled = await Promise.all([
  run([...common, '-gencode', 'arch=compute_90,code=sm_90', '-gencode', 'arch=compute_90,code=compute_90', '-Xptxas', '-warn-spills',
    '-c', join(sources, 'kernels.cu'), '-o', kernels]),
  run([...common, '-x', 'c++', '-DNAPI_CPP_EXCEPTIONS', '-DNAPI_VERSION=8', '-I', nodeHeaders, '-I', addonApi.replace(/^"|"$/g, ''),
    '-c', join(sources, 'addon.cc'), '-o', host]),
]);
const failed = compiled.find((r) => r.status !== 0);
const warned = compiled.find((r) => r.output.trim() !== '');
if (failed || warned) {
  process.stderr.write(compiled.map((r) => r.output).join(''));
  if (failed) skip(`the CUDA build failed (nvcc exit ${failed.status}; its output is above)`);
}
const linked = await run(['-shared', '-cudart', 'static', kernels, host, '-o', join(objects, 'asap_cuda.node')]);
if (linked.status !== 0) {
  process.stderr.write(linked.output);
  skip(`the CUDA link failed (nvcc exit ${linked.status}; its output is above)`);
}
copyFileSync(join(objects, 'asap_cuda.node'), addon);
process.stdout.write(`build-cuda: wrote build/cuda/asap_cuda.node (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
