// A hardware profile by name (a built-in) or by path (a JSON file, as `asap calibrate` writes).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HardwareProfileError, checkHardwareProfile } from './check-profile.ts';
import { CM384 } from './cm384.ts';
import { H200 } from './h200.ts';
import type { HardwareProfile } from './hardware-profile.ts';

const BUILT_IN: Readonly<Record<string, HardwareProfile>> = { h200: H200, cm384: CM384 };

/** The built-in profiles' names. */
export const HARDWARE_PROFILES: readonly string[] = Object.keys(BUILT_IN);

/** A built-in profile ('h200', 'cm384'), or else the JSON file at that path, checked field by field. */
export function hardwareProfile(nameOrPath: string): HardwareProfile {
  const builtIn = Object.hasOwn(BUILT_IN, nameOrPath) ? BUILT_IN[nameOrPath] : undefined;
  if (builtIn) return builtIn;
  const file = resolve(nameOrPath);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : `cannot read (${code})`;
    throw new HardwareProfileError(file, `${why}; not a built-in profile either (built-in: ${HARDWARE_PROFILES.join(', ')})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HardwareProfileError(file, `not JSON (${(error as Error).message})`);
  }
  return checkHardwareProfile(value, file);
}
