import type { ActorId } from './ids.ts';

/**
 * Actor ids numbered in the order first seen. A host that runs many actors in one thread gives all their
 * runners one index: each runner's sets of ids are then bitsets, and a membership test looks the id up in
 * this one table, which every message keeps hot in cache, rather than in a table of its own per runner
 * (at hundreds of actors, one cache miss or more per message).
 */
export class ActorIndex {
  private readonly numbers = new Map<ActorId, number>();

  /** The id's number, given now if it has none. */
  numberOf(id: ActorId): number {
    let n = this.numbers.get(id);
    if (n === undefined) {
      n = this.numbers.size;
      this.numbers.set(id, n);
    }
    return n;
  }

  /** The id's number, or -1 if it has none. */
  find(id: ActorId): number {
    return this.numbers.get(id) ?? -1;
  }
}

/** A fixed set of actor ids, as bits over an ActorIndex: `has` is what a Set of the ids would answer. */
export class ActorIdSet {
  private readonly bits: Uint32Array;

  constructor(
    private readonly index: ActorIndex,
    ids: readonly ActorId[],
  ) {
    const numbers = ids.map((id) => index.numberOf(id));
    let highest = -1;
    for (const n of numbers) highest = Math.max(highest, n);
    this.bits = new Uint32Array((highest >> 5) + 1);
    for (const n of numbers) this.bits[n >> 5] |= 1 << (n & 31);
  }

  has(id: ActorId): boolean {
    const n = this.index.find(id);
    // An id numbered after this set was made (n beyond its bits) is not in it.
    return n >= 0 && ((this.bits[n >> 5] ?? 0) & (1 << (n & 31))) !== 0;
  }
}
