// A worker loads TypeScript actor modules through tsx, registered on first need: workers whose actors are
// plain JavaScript never pay for it, and a project without tsx runs built modules under plain node.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const TYPESCRIPT = /\.[cm]?tsx?$/;
let registered: Promise<void> | undefined;

/** tsx's ESM API (the `import` target of tsx/esm/api) as found from `from`, or undefined. */
function resolveTsx(from: string): string | undefined {
  try {
    const manifest = createRequire(from).resolve('tsx/package.json');
    const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
    const api = exports['./esm/api']?.import?.default;
    return api ? pathToFileURL(join(dirname(manifest), api)).href : undefined;
  } catch {
    return undefined;
  }
}

/** Makes `moduleUrl` importable here: registers tsx first when it is TypeScript. */
export function prepareToImport(moduleUrl: string): Promise<void> {
  if (!TYPESCRIPT.test(new URL(moduleUrl).pathname)) return Promise.resolve();
  registered ??= (async () => {
    const api = resolveTsx(moduleUrl) ?? resolveTsx(import.meta.url);
    if (!api) throw new Error(`${moduleUrl} is TypeScript and tsx cannot be found from it: install tsx, or build the module to JavaScript`);
    const { register } = (await import(api)) as { register(): unknown };
    register();
  })();
  return registered;
}
