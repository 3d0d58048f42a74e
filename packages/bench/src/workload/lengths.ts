// Prompt-length distributions: each a function of a seeded random source returning a whole token count.
import type { SeededRandom } from '@asap/runtime';

export type LengthDistribution = (random: SeededRandom) => number;

export function fixedLength(tokens: number): LengthDistribution {
  checkTokens(tokens, 'fixed length');
  return () => tokens;
}

/** Uniform over [min, max], both included. */
export function uniformLength(min: number, max: number): LengthDistribution {
  checkTokens(min, 'uniform min');
  checkTokens(max, 'uniform max');
  if (max < min) throw new RangeError(`lengths: uniform max ${max} is below min ${min}`);
  return (random) => min + Math.floor(random.next() * (max - min + 1));
}

/** Draws from the given lengths (e.g. a trace's), each equally likely. */
export function empiricalLength(values: readonly number[]): LengthDistribution {
  if (values.length === 0) throw new RangeError('lengths: an empirical distribution needs at least one value');
  values.forEach((v) => checkTokens(v, 'empirical value'));
  return (random) => values[Math.floor(random.next() * values.length)];
}

/** A mixture: picks a component by weight, then draws from it. */
export function mixtureLength(components: ReadonlyArray<{ readonly weight: number; readonly lengths: LengthDistribution }>): LengthDistribution {
  const total = components.reduce((n, c) => n + c.weight, 0);
  if (!(total > 0) || components.some((c) => !(c.weight >= 0))) throw new RangeError('lengths: mixture weights must be non-negative and not all zero');
  return (random) => {
    let u = random.next() * total;
    for (const c of components) {
      if (u < c.weight) return c.lengths(random);
      u -= c.weight;
    }
    return components[components.length - 1].lengths(random);
  };
}

export function drawLengths(lengths: LengthDistribution, count: number, random: SeededRandom): number[] {
  return Array.from({ length: count }, () => lengths(random));
}

function checkTokens(tokens: number, what: string): void {
  if (!Number.isSafeInteger(tokens) || tokens < 1) throw new RangeError(`lengths: ${what} must be a positive integer, got ${tokens}`);
}
