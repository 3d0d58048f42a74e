// The embedded default model: generated from a seed on first use and cached, never downloaded. A cache entry
// is checked on every use and regenerated when it is damaged; what interrupted runs left behind is removed.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ArchName, generateModel, type PresetName, SafetensorsCheckpoint } from '@asap/actors';

export interface CachedModel {
  readonly arch: ArchName;
  readonly preset: PresetName;
  readonly seed: number;
}

export const DEFAULT_MODEL: CachedModel = { arch: 'qwen3_moe', preset: 'small', seed: 1 };

const cacheRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules', '.cache', 'asap', 'models');

/** Written last into a finished entry: each file's size, and the hash of config.json (small, read anyway). */
const MANIFEST = 'asap-cache.json';

interface Manifest {
  readonly files: Readonly<Record<string, number>>;
  readonly configSha256: string;
}

/** Scratch directories carry the pid of the run that made them, so another run can tell abandoned from in use. */
const SCRATCH = /^\.(staging|broken)-(\d+)-/;

/** The default model's directory, generating (or repairing) it first if needed. */
export function defaultModelDir(): Promise<string> {
  return cachedModelDir(DEFAULT_MODEL, cacheRoot);
}

/**
 * `model`'s directory under `root`: verified (every file present at its recorded size, config.json's hash, a
 * safetensors header that parses and fits its file), else regenerated. Concurrent runs are safe: each
 * generates beside the target and renames; the first rename wins and the others use its byte-identical copy.
 */
export async function cachedModelDir(model: CachedModel, root: string): Promise<string> {
  const dir = join(root, `${model.arch}-${model.preset}-seed${model.seed}`);
  await mkdir(root, { recursive: true });
  await removeAbandoned(root);
  if (await isIntact(dir)) return dir;
  if (existsSync(dir)) await discard(dir, root);
  const staging = await mkdtemp(join(root, `.staging-${process.pid}-`));
  try {
    const generated = await generateModel({ ...model, out: staging });
    await writeManifest(staging, generated.files);
    await rename(staging, dir);
  } catch (error) {
    if (!(await isIntact(dir))) throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return dir;
}

async function isIntact(dir: string): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
    for (const [file, bytes] of Object.entries(manifest.files)) {
      if ((await stat(join(dir, file))).size !== bytes) return false;
    }
    if (sha256(await readFile(join(dir, 'config.json'))) !== manifest.configSha256) return false;
    const checkpoint = await SafetensorsCheckpoint.open(dir);
    await checkpoint.close();
    return true;
  } catch {
    return false;
  }
}

async function writeManifest(dir: string, files: readonly string[]): Promise<void> {
  const sizes: Record<string, number> = {};
  for (const file of ['config.json', ...files]) sizes[file] = (await stat(join(dir, file))).size;
  const manifest: Manifest = { files: sizes, configSha256: sha256(await readFile(join(dir, 'config.json'))) };
  await writeFile(join(dir, MANIFEST), JSON.stringify(manifest));
}

/** Moves a damaged entry out of the way first (a rename is atomic), then deletes it. */
async function discard(dir: string, root: string): Promise<void> {
  const aside = join(root, `.broken-${process.pid}-${Date.now()}`);
  try {
    await rename(dir, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // another run got there first
    throw error;
  }
  await rm(aside, { recursive: true, force: true });
}

/** Deletes scratch directories whose run is gone (killed mid-generation, say). */
async function removeAbandoned(root: string): Promise<void> {
  for (const name of await readdir(root)) {
    const scratch = SCRATCH.exec(name);
    const abandoned = scratch ? !isRunning(Number(scratch[2])) : name.startsWith('.staging-') && (await isOld(join(root, name)));
    if (abandoned) await rm(join(root, name), { recursive: true, force: true });
  }
}

/** Scratch from before directories carried a pid: abandoned once older than any generation takes. */
async function isOld(path: string): Promise<boolean> {
  const modified = await stat(path).then((s) => s.mtimeMs, () => Date.now());
  return Date.now() - modified > 60 * 60 * 1000;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
