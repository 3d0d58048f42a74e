import { CheckpointError } from '../../errors.ts';

/**
 * Typed reads of config.json fields with the architecture's default when a field is absent or null, as a
 * `transformers` config class applies them. A present field of the wrong type is an error naming it.
 */
export class ConfigFields {
  readonly raw: Readonly<Record<string, unknown>>;
  readonly file: string;

  constructor(raw: Readonly<Record<string, unknown>>, file: string) {
    this.raw = raw;
    this.file = file;
  }

  private value(key: string): unknown {
    const v = this.raw[key];
    return v === null ? undefined : v;
  }

  fail(problem: string): never {
    throw new CheckpointError(this.file, problem);
  }

  /** A positive integer (or, with `min: 0`, non-negative), at most `max`. */
  int(key: string, fallback?: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.value(key) ?? fallback;
    if (v === undefined) this.fail(`missing ${key}`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      this.fail(`${key} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    }
    if (v > max) this.fail(`${key} is ${v}, more than any supported model has (at most ${max})`);
    return v;
  }

  /** A positive finite number. */
  positive(key: string, fallback: number): number {
    const v = this.value(key) ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      this.fail(`${key} must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.value(key) ?? fallback;
    if (typeof v !== 'boolean') this.fail(`${key} must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  string(key: string, fallback: string): string {
    const v = this.value(key) ?? fallback;
    if (typeof v !== 'string') this.fail(`${key} must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  /** An integer or null (absent means `fallback`). */
  optionalInt(key: string, fallback: number | null): number | null {
    if (!(key in this.raw)) return fallback;
    if (this.raw[key] === null) return null;
    return this.int(key);
  }

  intList(key: string): number[] {
    const v = this.value(key) ?? [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isSafeInteger(x))) {
      this.fail(`${key} must be a list of integers, got ${JSON.stringify(v)}`);
    }
    return v as number[];
  }
}
