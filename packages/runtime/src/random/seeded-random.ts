/**
 * xoshiro128** seeded through splitmix32: a small, fast, fully specified generator, so a seed gives the same
 * weights on every machine and Node version (Math.random cannot be seeded; transcendental Math functions
 * are not guaranteed bit-identical across engines, so none are used here).
 */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `stream` picks one of many independent sequences for the same seed. */
  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`SeededRandom: seed must be an integer, got ${seed}`);
    let s = seed >>> 0;
    const splitmix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    s = (splitmix() ^ Math.floor(seed / 2 ** 32)) >>> 0;
    s = (splitmix() ^ stream) >>> 0;
    this.a = splitmix();
    this.b = splitmix();
    this.c = splitmix();
    this.d = splitmix() || 1; // xoshiro's state must not be all zero
  }

  /** The stream for one named thing (a tensor), so its values do not depend on what else is generated. */
  static forName(seed: number, name: string): SeededRandom {
    let h = 0x811c9dc5; // FNV-1a over the name's UTF-16 units
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
    return new SeededRandom(seed, h);
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** Uniform in [-a, a). */
  symmetric(a: number): number {
    return (2 * this.next() - 1) * a;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
