// Prepares the GPU check for a machine with no network, no node_modules and perhaps no Node (the lent H200: the
// device tool copies the working tree, not node_modules, and 64 MiB at most). Writes build/gpu-check/:
//   bundle/   the GPU tests, the golden fixtures and engines tests, the `asap` CLI, the threads host's worker
//             and the rank actors, bundled by esbuild into plain .mjs files that share one copy of each module
//             (code splitting), so the rank actors a host loads see the same runtime as the test that started it;
//   shims/    one-line modules for the places the runtime looks for built code (packages/*/dist/…): the threads
//             host's worker entry and the rank modules; scripts/gpu-check.sh puts them there on the device;
//   node-<version>-linux-<arch>.tar.xz   this Node (stripped) with the N-API headers, for a machine without one;
//   node_modules/node-addon-api/         its headers, so the device can rebuild the CUDA addon if ours will not load;
//   manifest.txt                         the commit and the files, printed by gpu-check.sh;
//   sources.sha256                       the bundled sources' digests, checked by gpu-check.sh against its tree.
// Then carry packages/runtime/build (the addons, the wasm and this folder): see gpu-check.sh for the exact call.
//   node packages/runtime/scripts/bundle-gpu-check.mjs
//
// Bundled code keeps its own file's location: `import.meta.url` in the source of a package that builds
// (runtime, actors: src/a/b.ts) reads as its built location (dist/a/b.js, what `pnpm build` makes), elsewhere
// (tests, bench) as the file itself, so the addons, the wasm, the fixtures and the rank modules are found
// exactly as the built packages and the tests find them.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const runtime = fileURLToPath(new URL('..', import.meta.url));
const repo = join(runtime, '..', '..');
const out = join(runtime, 'build', 'gpu-check');
const bundleDir = join(out, 'bundle');
const shimDir = join(out, 'shims');
const packages = join(repo, 'packages');

/** Modules a host imports by URL at run time (not reachable by static imports): each is its own entry. */
function actorModules() {
  const ranks = join(packages, 'actors', 'src', 'ranks');
  const names = readdirSync(ranks).filter((f) => f.endsWith('.ts') && /^export default defineActor\b/m.test(readFileSync(join(ranks, f), 'utf8')));
  if (names.length === 0) throw new Error(`bundle-gpu-check: no rank actor (export default defineActor) in ${ranks}`);
  return names.map((f) => join(ranks, f));
}

const entries = {
  'kernels-cuda.test': join(runtime, 'test', 'kernels-cuda.test.ts'),
  'fixtures.test': join(packages, 'actors', 'test', 'fixtures.test.ts'),
  'engines.test': join(packages, 'actors', 'test', 'engines.test.ts'),
  asap: join(packages, 'bench', 'src', 'cli', 'main.ts'),
};
const loadedByUrl = [join(runtime, 'src', 'host', 'threads', 'worker.ts'), ...actorModules()];
for (const file of loadedByUrl) entries[relative(packages, file).split(sep).join('__').replace(/\.ts$/, '')] = file;

/** Packages that `pnpm build` compiles to dist/ (the others run from their sources). */
const builtPackages = new Set(
  readdirSync(packages).filter((p) => existsSync(join(packages, p, 'package.json')) && JSON.parse(readFileSync(join(packages, p, 'package.json'), 'utf8')).scripts?.build),
);

/** Where `file` is once built: packages/X/src/a/b.ts → packages/X/dist/a/b.js where X builds; else the file itself. */
function builtLocation(file) {
  const parts = relative(packages, file).split(sep);
  if (parts.length < 3 || !builtPackages.has(parts[0]) || parts[1] !== 'src' || !/\.m?ts$/.test(file)) return file;
  return join(packages, parts[0], 'dist', ...parts.slice(2)).replace(/\.(m?)ts$/, '.$1js');
}

const fromBundle = (file) => relative(bundleDir, file).split(sep).join('/');

/** Rewrites `import.meta.url` in the repository's own TypeScript to the URL of the file's built location. */
const ownLocation = {
  name: 'own-location',
  setup(b) {
    b.onLoad({ filter: /\.m?ts$/ }, (args) => {
      if (!args.path.startsWith(packages + sep) || args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const source = readFileSync(args.path, 'utf8');
      const url = `new URL(${JSON.stringify(fromBundle(builtLocation(args.path)))}, import.meta.url).href`;
      return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

const started = Date.now();
rmSync(bundleDir, { recursive: true, force: true });
rmSync(shimDir, { recursive: true, force: true });
const result = await build({
  entryPoints: entries,
  absWorkingDir: repo,
  outdir: bundleDir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  conditions: ['asap-source'],
  // Bundled CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __asapCreateRequire } from 'node:module'; const require = __asapCreateRequire(import.meta.url);" },
  plugins: [ownLocation],
  metafile: true,
  logLevel: 'warning',
});

// A shim where the runtime looks for each module it loads by URL, importing (and re-exporting) its bundle.
const SHIM_MARK = '// gpu-check shim (packages/runtime/scripts/bundle-gpu-check.mjs): the bundled module, for a copy without builds';
for (const [output, meta] of Object.entries(result.metafile.outputs)) {
  const entry = meta.entryPoint && join(repo, meta.entryPoint);
  if (!entry || !loadedByUrl.includes(entry)) continue;
  const target = builtLocation(entry);
  const shim = join(shimDir, relative(repo, target));
  let specifier = relative(dirname(target), join(repo, output)).split(sep).join('/');
  if (!specifier.startsWith('.')) specifier = `./${specifier}`;
  const lines = [SHIM_MARK, `export * from '${specifier}';`];
  if (meta.exports.includes('default')) lines.push(`export { default } from '${specifier}';`);
  mkdirSync(dirname(shim), { recursive: true });
  writeFileSync(shim, `${lines.join('\n')}\n`);
}

// This Node for a machine without one: the binary (stripped where `strip` exists) and the N-API headers that
// scripts/build-cuda.mjs compiles against (<prefix>/include/node). Made once per Node version.
const nodeName = `node-${process.version}-linux-${process.arch}`;
const nodeArchive = join(out, `${nodeName}.tar.xz`);
if (process.platform !== 'linux') throw new Error(`bundle-gpu-check: the device is Linux; this is ${process.platform}`);
for (const f of readdirSync(out)) if (/^node-v.*\.tar\.xz$/.test(f) && join(out, f) !== nodeArchive) rmSync(join(out, f));
if (!existsSync(nodeArchive)) {
  const staging = join(out, 'node-staging');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, nodeName, 'bin'), { recursive: true });
  mkdirSync(join(staging, nodeName, 'include', 'node'), { recursive: true });
  const binary = join(staging, nodeName, 'bin', 'node');
  copyFileSync(process.execPath, binary);
  const stripped = spawnSync('strip', [binary], { stdio: 'inherit' });
  if (stripped.error || stripped.status !== 0) process.stdout.write('bundle-gpu-check: strip failed or is missing; packing Node unstripped\n');
  const headers = join(dirname(dirname(process.execPath)), 'include', 'node');
  for (const h of ['node_api.h', 'node_api_types.h', 'js_native_api.h', 'js_native_api_types.h']) {
    if (!existsSync(join(headers, h))) throw new Error(`bundle-gpu-check: ${join(headers, h)} is missing (the device's addon rebuild needs it)`);
    copyFileSync(join(headers, h), join(staging, nodeName, 'include', 'node', h));
  }
  process.stdout.write(`bundle-gpu-check: compressing ${nodeName} (xz -9, a minute or two)\n`);
  const packed = spawnSync('tar', ['-C', staging, '-cJf', nodeArchive, nodeName], { stdio: 'inherit', env: { ...process.env, XZ_OPT: '-9 -T0' } });
  rmSync(staging, { recursive: true, force: true });
  if (packed.error || packed.status !== 0) {
    rmSync(nodeArchive, { force: true });
    throw new Error(`bundle-gpu-check: tar -cJf ${nodeArchive} failed (${packed.error ?? `exit ${packed.status}`})`);
  }
}

// node-addon-api's headers (NODE_PATH finds them for scripts/build-cuda.mjs on the device).
const addonApi = dirname(createRequire(join(runtime, 'package.json')).resolve('node-addon-api/package.json'));
const addonApiCopy = join(out, 'node_modules', 'node-addon-api');
rmSync(addonApiCopy, { recursive: true, force: true });
cpSync(addonApi, addonApiCopy, { recursive: true });

// The sources the bundle was made from, in sha256sum's format: gpu-check.sh checks them against the tree it runs
// in and says so when the bundle is older than the sources.
const inputs = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('packages/') && !f.includes('node_modules/')).sort();
const digest = (f) => createHash('sha256').update(readFileSync(join(repo, f))).digest('hex');
writeFileSync(join(out, 'sources.sha256'), inputs.map((f) => `${digest(f)}  ${f}\n`).join(''));

const git = (args) => spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).stdout?.trim() ?? '';
const files = Object.keys(result.metafile.outputs).length;
const sizeOf = (dir) => readdirSync(dir, { recursive: true }).reduce((n, f) => n + (statSync(join(dir, f)).isFile() ? statSync(join(dir, f)).size : 0), 0);
const manifest = [
  `bundled ${new Date().toISOString()} from commit ${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--', 'packages']) ? ' with uncommitted changes in packages/' : ''}`,
  `bundle: ${files} files from ${inputs.length} sources, ${(sizeOf(bundleDir) / 2 ** 20).toFixed(1)} MiB; node: ${nodeName}.tar.xz, ${(statSync(nodeArchive).size / 2 ** 20).toFixed(1)} MiB`,
  `entries: ${Object.keys(entries).join(', ')}`,
];
writeFileSync(join(out, 'manifest.txt'), `${manifest.join('\n')}\n`);
process.stdout.write(`bundle-gpu-check: wrote ${relative(repo, out)} in ${((Date.now() - started) / 1000).toFixed(1)} s\n  ${manifest.join('\n  ')}\n`);
