import type { RouterChoice } from '@asap/runtime';

/** The rows one expert receives: slot indices (t * topK + s) and their token rows t, ascending. */
export interface ExpertRows {
  readonly expert: number;
  readonly slots: Int32Array;
  readonly tokens: Int32Array;
}

/** Groups a layer's routed slots by expert, experts ascending: the dispatch plan of one chunk. */
export function rowsByExpert(routing: RouterChoice): ExpertRows[] {
  const { topK, experts } = routing;
  const slotsOf = new Map<number, number[]>();
  for (let slot = 0; slot < experts.length; slot++) {
    const e = experts[slot];
    let list = slotsOf.get(e);
    if (!list) slotsOf.set(e, (list = []));
    list.push(slot);
  }
  return [...slotsOf.keys()]
    .sort((a, b) => a - b)
    .map((expert) => {
      const slots = Int32Array.from(slotsOf.get(expert)!);
      return { expert, slots, tokens: slots.map((s) => Math.floor(s / topK)) };
    });
}
