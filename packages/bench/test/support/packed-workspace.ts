// Installs the workspace's built packages into a directory outside it, the way `npm pack` + install would:
// each package's package.json and the files it lists (dist/, the wasm build), never its sources; its
// third-party dependencies are linked from the workspace's install (the test runs offline).
import { cp, mkdir, readFile, realpath, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface Manifest {
  readonly name: string;
  readonly files?: readonly string[];
  readonly dependencies?: Readonly<Record<string, string>>;
}

/** Installs @asap/<name> for each name into `root`/node_modules; returns `root`. */
export async function installBuiltPackages(root: string, names: readonly string[]): Promise<string> {
  const modules = join(root, 'node_modules');
  const linked = new Set<string>();
  for (const name of names) {
    const source = join(PACKAGES, name);
    const manifest = JSON.parse(await readFile(join(source, 'package.json'), 'utf8')) as Manifest;
    const target = join(modules, manifest.name);
    await mkdir(target, { recursive: true });
    await cp(join(source, 'package.json'), join(target, 'package.json'));
    for (const entry of manifest.files ?? []) await cp(join(source, entry), join(target, entry), { recursive: true });
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      if (dep.startsWith('@asap/') || linked.has(dep)) continue;
      linked.add(dep);
      await mkdir(dirname(join(modules, dep)), { recursive: true });
      await symlink(await realpath(join(source, 'node_modules', dep)), join(modules, dep), 'dir');
    }
  }
  return root;
}
