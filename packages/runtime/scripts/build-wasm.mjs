// Builds the wasm kernels from assembly/ with AssemblyScript, twice: plain SIMD and relaxed SIMD
// (fused multiply-add). Both import one shared memory, so kernels compute on tensors in place.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = fileURLToPath(new URL('..', import.meta.url));
const common = [
  'assembly/index.ts',
  '-O3',
  '--runtime', 'stub',
  '--importMemory',
  '--sharedMemory',
  '--initialMemory', '1',
  '--maximumMemory', '65536',
];
const variants = [
  { file: 'build/kernels-simd.wasm', features: 'simd,threads' },
  { file: 'build/kernels-relaxed.wasm', features: 'simd,threads,relaxed-simd' },
];

process.chdir(root);
await mkdir('build', { recursive: true });
for (const { file, features } of variants) {
  const { error, stderr } = await asc.main([...common, '--enable', features, '--outFile', file]);
  if (error) {
    process.stderr.write(stderr.toString());
    throw new Error(`build-wasm: ${file}: ${error.message}`);
  }
  process.stdout.write(`build-wasm: wrote ${file}\n`);
}
