// Where `asap calibrate` writes this machine's profile, and how a `--profile` option names a profile.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HARDWARE_PROFILES, type HardwareProfile, hardwareProfile } from '@asap/runtime';

/** packages/bench/.calibration/local.json (gitignored): the `local` profile, once calibrated. */
export function localProfilePath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.calibration', 'local.json');
}

/** All names `--profile` takes besides a path. */
export const PROFILE_NAMES: readonly string[] = ['local', ...HARDWARE_PROFILES];

/** A built-in profile, `local` (this machine, as calibrated), or a JSON file. */
export function resolveProfile(nameOrPath: string): HardwareProfile {
  if (nameOrPath !== 'local') return hardwareProfile(nameOrPath);
  const path = localProfilePath();
  if (!existsSync(path)) throw new Error(`profile "local" is not calibrated yet: run \`pnpm asap calibrate\` first (it writes ${path})`);
  return hardwareProfile(path);
}
