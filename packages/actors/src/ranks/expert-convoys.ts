// Convoys at an expert rank: dispatches served at one layer close together in time come back at the next
// layer close together too, one attention op later. Serving a layer before its convoy is back splits the
// batch, and each part re-reads the experts' weights for fewer rows; a bounded wait keeps it whole, as a
// synchronous step would, without its barrier: a member later than the bound is left to a later batch, and
// the rank serves other ready layers meanwhile. A convoy is every dispatch served at its layer within the
// bound of its first, not only those served in one batch: a micro-batch a little behind another is caught up
// with at the next layer, and from then on the two travel together (they finish together and start their
// next micro-batches together), so convoys form as well as last.
// Only a busy rank holds convoys (at light load a split costs no one: the weights' re-read fits in idle
// time), and only for members whose deadlines afford the wait at every layer left: batching grows with
// load where SLOs are loose and stays out of the way where they are tight.

interface Convoy {
  /** Members served in it that have not arrived at a later layer yet. */
  away: number;
  /** When its first member came back (Infinity: none yet). */
  firstBackMs: number;
  readonly createdMs: number;
}

/** A convoy that no member came back to for this long is forgotten (its members went elsewhere or ended). */
const FORGET_AFTER_MS = 1000;
/** The rank's recent load is its busy share over about this long, ms. */
const LOAD_WINDOW_MS = 50;
/** Convoys are held while the recent load is at least this. */
const HOLD_AT_LOAD = 0.5;

export class ExpertConvoys {
  private nextId = 0;
  private readonly convoys = new Map<number, Convoy>();
  /** The convoy each dispatch source (a number per attention rank and micro-batch) was last served in here. */
  private readonly lastServed = new Map<number, number>();
  /** Per layer, the convoy that dispatches served there now join (at most one per layer). */
  private readonly openAt = new Map<number, number>();
  /** Busy share, exponentially weighted over LOAD_WINDOW_MS, as of `loadAtMs`. */
  private load = 0;
  private loadAtMs = 0;
  /** A member's time from being served to coming back at its next layer, exponentially weighted, ms. */
  private layerMs = 0;

  constructor(private readonly waitMs: number) {}

  /** A dispatch from `source` arrived: the convoy it comes back to, or -1 (none: it starts one when served). */
  arrive(source: number, nowMs: number): number {
    const id = this.lastServed.get(source);
    if (id === undefined) return -1;
    this.lastServed.delete(source);
    const convoy = this.convoys.get(id);
    if (!convoy) return -1;
    // Once all of it is back its record is not needed: a convoy with none away is ready, as is one unknown.
    if (--convoy.away === 0) this.convoys.delete(id);
    this.layerMs = this.layerMs === 0 ? nowMs - convoy.createdMs : 0.9 * this.layerMs + 0.1 * (nowMs - convoy.createdMs);
    if (convoy.firstBackMs === Infinity) convoy.firstBackMs = nowMs;
    return id;
  }

  /** The rank computed a batch from `startMs` to `endMs`. */
  busy(startMs: number, endMs: number): void {
    this.load = this.loadAt(endMs) + (endMs - startMs) / LOAD_WINDOW_MS;
    this.loadAtMs = endMs;
  }

  /**
   * Whether convoys may be held for a batch whose earliest deadline is `deadlineMs` with `layersLeft` MoE
   * layers to go: the rank is busy, and a wait at each of them still meets the deadline.
   */
  holding(nowMs: number, deadlineMs: number, layersLeft: number): boolean {
    return this.loadAt(nowMs) >= HOLD_AT_LOAD && deadlineMs - nowMs >= layersLeft * (this.layerMs + this.waitMs);
  }

  /** Whether a dispatch of convoy `id` may be served now: all of the convoy is back, or it waited its bound. */
  ready(id: number, nowMs: number): boolean {
    // A timer set for readyAt lands on it up to rounding: a nanosecond's slack.
    return nowMs + 1e-6 >= this.readyAt(id);
  }

  /** When the wait of convoy `id` ends, ms (-Infinity: it has none left). */
  readyAt(id: number): number {
    const convoy = id < 0 ? undefined : this.convoys.get(id);
    return convoy ? convoy.firstBackMs + this.waitMs : -Infinity;
  }

  /**
   * These sources were served together at `layer`; `last`: their last layer, so none comes back. They join
   * the layer's open convoy (one started within the bound, none of it back yet), or start one.
   */
  served(sources: readonly number[], layer: number, last: boolean, nowMs: number): void {
    this.forgetStale(nowMs);
    if (last) return;
    let id = this.openAt.get(layer) ?? -1;
    let convoy = this.convoys.get(id);
    if (!convoy || nowMs - convoy.createdMs > this.waitMs || convoy.firstBackMs !== Infinity) {
      id = this.nextId++;
      convoy = { away: 0, firstBackMs: Infinity, createdMs: nowMs };
      this.convoys.set(id, convoy);
      this.openAt.set(layer, id);
    }
    convoy.away += sources.length;
    for (const s of sources) this.lastServed.set(s, id);
  }

  private loadAt(nowMs: number): number {
    return this.load * Math.exp(-(nowMs - this.loadAtMs) / LOAD_WINDOW_MS);
  }

  get size(): number {
    return this.convoys.size + this.lastServed.size;
  }

  /** Maps keep insertion order: the oldest entries are first, so forgetting is amortized O(1). */
  private forgetStale(nowMs: number): void {
    for (const [id, convoy] of this.convoys) {
      if (convoy.createdMs >= nowMs - FORGET_AFTER_MS) break;
      this.convoys.delete(id);
    }
    for (const [source, id] of this.lastServed) {
      if (this.convoys.has(id)) break;
      this.lastServed.delete(source);
    }
  }
}
