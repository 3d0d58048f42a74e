// Where an actor worker starts. Workers always run the runtime's built JavaScript (dist/): loading it takes
// tens of milliseconds, where compiling the TypeScript sources through tsx in every worker took 0.5–1.5 s.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The export condition that selects a workspace package's TypeScript sources (see docs/DESIGN.md, Packages). */
export const SOURCE_CONDITION = 'asap-source';

/** The built worker entry: beside this file when it runs from dist/, else in the package's dist/. */
export function workerEntry(): URL {
  const built = import.meta.url.endsWith('.js');
  const entry = new URL(built ? './worker.js' : '../../../dist/host/threads/worker.js', import.meta.url);
  if (!existsSync(entry)) {
    throw new Error(`threads host: ${fileURLToPath(entry)} is missing; build the runtime first ("pnpm --filter @asap/runtime build")`);
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
