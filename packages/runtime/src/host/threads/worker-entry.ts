// Where an actor worker starts. Workers always run the runtime's built JavaScript (dist/): loading it takes
// tens of milliseconds, where compiling the TypeScript sources through tsx in every worker took 0.5–1.5 s.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The export condition that selects a workspace package's TypeScript sources (see docs/DESIGN.md, Packages). */
export const SOURCE_CONDITION = 'asap-source';

/**
 * The built JavaScript of a module in a package's src/ (src/a/b.ts → dist/a/b.js) when it exists and is not
 * older than the source; otherwise the module itself. Give actor modules this way and their workers start
 * without tsx: registering it alone costs a worker ≈ 0.2 s, and it slows every import after. A `.ts` name
 * under dist/ (`new URL('./rank.ts', import.meta.url)` in code that was built) means the built `.js`.
 */
export function builtModule(module: URL | string): URL {
  const url = typeof module === 'string' ? (module.startsWith('file:') ? new URL(module) : pathToFileURL(module)) : module;
  const match = /^(.*)\/(?:src|dist)\/(.*)\.(m?)ts$/.exec(url.pathname);
  if (!match) return url;
  const built = new URL(`file://${match[1]}/dist/${match[2]}.${match[3]}js`);
  const source = fileURLToPath(url);
  const target = fileURLToPath(built);
  return existsSync(target) && (!existsSync(source) || statSync(target).mtimeMs >= statSync(source).mtimeMs) ? built : url;
}

/** The built worker entry: this file's neighbour when it runs from dist/, else the package's dist/. */
export function workerEntry(): URL {
  const entry = builtModule(new URL(`./worker.${import.meta.url.endsWith('.js') ? 'js' : 'ts'}`, import.meta.url));
  if (!entry.pathname.endsWith('.js')) {
    throw new Error(
      `threads host: the built runtime is missing or older than ${fileURLToPath(entry)}; build it first ("pnpm --filter @asap/runtime build")`,
    );
  }
  return entry;
}

/**
 * The parent's node flags minus the ones that would load TypeScript in every worker: the source condition
 * (workers resolve @asap/* to dist/, the same modules the worker entry is) and tsx, which a worker
 * registers itself only for an actor module written in TypeScript.
 */
export function workerExecArgv(parent: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < parent.length; i++) {
    const flag = parent[i];
    const next = parent[i + 1];
    if (flag === `--conditions=${SOURCE_CONDITION}` || flag === `-C=${SOURCE_CONDITION}`) continue;
    if ((flag === '--conditions' || flag === '-C') && next === SOURCE_CONDITION) i++;
    else if (/^--(import|require|loader)=tsx(\/.*)?$/.test(flag)) continue;
    else if ((flag === '--import' || flag === '--require' || flag === '-r' || flag === '--loader') && /^tsx(\/.*)?$/.test(next ?? '')) i++;
    else out.push(flag);
  }
  return out;
}
