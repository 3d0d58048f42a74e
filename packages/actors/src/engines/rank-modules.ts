// Where the rank actors' modules are. Worker threads load the built JavaScript when it is up to date (they
// start without TypeScript); the sim host runs in this process and loads the same sources it does.
import { builtModule } from '@asap/runtime';
import type { HostName } from './engine.ts';

export type RankModule = 'gateway' | 'colocated-rank' | 'attention-rank' | 'expert-rank' | 'asap-colocated-rank';

const EXT = import.meta.url.endsWith('.js') ? 'js' : 'ts';

export function rankModule(name: RankModule, host: HostName): URL {
  const source = new URL(`../ranks/${name}.${EXT}`, import.meta.url);
  return host === 'threads' ? builtModule(source) : source;
}
