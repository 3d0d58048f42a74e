// asap gen-model: writes a deterministic random checkpoint (the embedded default model; nothing is downloaded).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ARCH_NAMES, type ArchName, generateModel, PRESET_NAMES, type PresetName } from '@asap/actors';
import { helpOrDuplicates } from './args.ts';

const USAGE = `usage: asap gen-model --arch ${ARCH_NAMES.join('|')} --preset ${PRESET_NAMES.join('|')} --seed N --out DIR [--dtype f32|bf16] [--shards N]`;

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T {
  if (value === undefined) throw new Error(`--${flag} is required\n${USAGE}`);
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`--${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

function integer(flag: string, value: string | undefined, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new Error(`--${flag} is required\n${USAGE}`);
    return fallback;
  }
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new Error(`--${flag} must be an integer, got "${value}"`);
  return Number(value);
}

export async function run(args: string[]): Promise<void> {
  if (helpOrDuplicates(args, USAGE)) return;
  const { values } = parseArgs({
    args,
    options: {
      arch: { type: 'string' },
      preset: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      dtype: { type: 'string' },
      shards: { type: 'string' },
    },
  });
  if (values.out === undefined) throw new Error(`--out is required\n${USAGE}`);
  const generated = await generateModel({
    arch: oneOf<ArchName>('arch', values.arch, ARCH_NAMES),
    preset: oneOf<PresetName>('preset', values.preset, PRESET_NAMES),
    seed: integer('seed', values.seed),
    out: resolve(process.env.INIT_CWD ?? process.cwd(), values.out),
    dtype: oneOf('dtype', values.dtype ?? 'f32', ['f32', 'bf16'] as const),
    shards: integer('shards', values.shards, 1),
  });
  const c = generated.config;
  process.stdout.write(
    `wrote ${c.arch} (${c.numLayers} layers, hidden ${c.hiddenSize}, ${c.numExperts} experts top-${c.topK}, vocab ${c.vocabSize}) ` +
      `to ${generated.dir}: ${generated.files.join(', ')}\n`,
  );
}
