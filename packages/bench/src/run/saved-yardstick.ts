// The unloaded TTFT curve of an earlier `asap sim --json` run, reused: at hundreds of ranks measuring it takes
// minutes, and it depends only on the cluster (profile, model, ranks, expert popularity and placement), not
// on the load being measured.
import { readFile } from 'node:fs/promises';
import type { UnloadedTtft } from '../metrics/slo.ts';
import type { ShapesOnly } from './cluster.ts';

export interface YardstickCluster {
  readonly profile: string;
  readonly model: string;
  readonly ranks: number;
  readonly shapesOnly?: ShapesOnly;
  /** The longest prompt the run will measure: the saved curve must reach it. */
  readonly maxLength: number;
}

interface SavedRun {
  readonly setup?: { readonly ranks?: number; readonly profile?: string; readonly shapesOnly?: ShapesOnly };
  readonly model?: string;
  readonly unloaded?: UnloadedTtft;
}

/** Reads `file`'s unloaded curve; a run on another cluster, or one that stops short of `maxLength`, is refused. */
export async function readSavedYardstick(file: string, cluster: YardstickCluster): Promise<UnloadedTtft> {
  let saved: SavedRun;
  try {
    saved = JSON.parse(await readFile(file, 'utf8')) as SavedRun;
  } catch (error) {
    throw new Error(`--yardstick ${file}: not a readable 'asap sim --json' output (${error instanceof Error ? error.message : String(error)})`);
  }
  const curve = saved.unloaded;
  if (!curve || !Array.isArray(curve.lengths) || !Array.isArray(curve.ttftMs) || curve.lengths.length === 0 || curve.lengths.length !== curve.ttftMs.length) {
    throw new Error(`--yardstick ${file}: it holds no unloaded TTFT curve (run 'asap sim ... --json' with the default --yardstick sync first)`);
  }
  // A run saved before placement by history existed placed experts without it.
  const popularity = (s: ShapesOnly | undefined, history: boolean): string => (s ? `skew ${s.skew}, EPLB ${(s.history ?? history) ? 'on' : 'off'}` : 'none');
  const theirs = { profile: saved.setup?.profile, model: saved.model, ranks: saved.setup?.ranks, popularity: popularity(saved.setup?.shapesOnly, false) };
  const ours = { profile: cluster.profile, model: cluster.model, ranks: cluster.ranks, popularity: popularity(cluster.shapesOnly, true) };
  if (theirs.profile !== ours.profile || theirs.model !== ours.model || theirs.ranks !== ours.ranks || theirs.popularity !== ours.popularity) {
    throw new Error(`--yardstick ${file}: measured on ${JSON.stringify(theirs)}, this run is ${JSON.stringify(ours)}`);
  }
  const longest = curve.lengths[curve.lengths.length - 1];
  if (longest < cluster.maxLength) throw new Error(`--yardstick ${file}: its curve stops at ${longest} tokens, this workload has prompts of ${cluster.maxLength}`);
  return curve;
}
