// Where the rank actors' modules are: beside this file's folder, with this file's own extension, so the
// same plan works from the TypeScript sources (under tsx) and from the built JavaScript.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXT = extname(fileURLToPath(import.meta.url));

export type RankModule = 'gateway' | 'colocated-rank' | 'attention-rank' | 'expert-rank' | 'asap-colocated-rank';

export function rankModule(name: RankModule): URL {
  return new URL(`../ranks/${name}${EXT}`, import.meta.url);
}
