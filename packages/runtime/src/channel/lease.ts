// Zero-copy receiving: a leased message's tensors are views into the ring itself, so its record's space is
// given back to the sender only when the consumer releases it. A leased tensor is valid until released;
// holding leases holds ring space, which is the backpressure (the sender waits once the ring is full).
import type { ChannelMessage } from './message.ts';

/** A message received with `ringReceiver(ring, { lease: true })`: its tensors are views into the ring. */
export interface LeasedMessage extends ChannelMessage {
  /**
   * Gives the message's ring space back to the sender. Its tensors must not be read after this (the sender
   * may overwrite them at once). Releasing twice does nothing; releases may come in any order.
   */
  release(): void;
}

interface Span {
  /** The ring position just past this record (and any WRAP skip read before it). */
  readonly end: number;
  released: boolean;
}

/**
 * The receiver's outstanding leases in ring order. The tail (what the sender may reuse) moves only over the
 * longest released prefix: a record released early still waits for every record before it.
 */
export class LeaseQueue {
  private readonly spans: Span[] = [];

  constructor(private readonly publishTail: (tail: number) => void) {}

  /** Holds the record that ends at ring position `end`; the returned function releases it. */
  hold(end: number): () => void {
    const span: Span = { end, released: false };
    this.spans.push(span);
    return () => {
      if (span.released) return;
      span.released = true;
      this.settle();
    };
  }

  /** Ring space the reader passed without delivering anything (a WRAP skip): free once the leases before it are. */
  pass(end: number): void {
    if (this.spans.length === 0) this.publishTail(end);
    else this.spans.push({ end, released: true });
  }

  private settle(): void {
    let tail = -1;
    while (this.spans.length > 0 && this.spans[0].released) tail = this.spans.shift()!.end;
    if (tail >= 0) this.publishTail(tail);
  }
}
