import type { Observable } from 'rxjs';
import type { Tensor } from '../tensor/tensor.ts';

/**
 * One message on a channel: a small header (kind + JSON-serialisable meta) and tensor rows that are
 * written in place into the channel's shared ring, never structured-cloned.
 */
export interface ChannelMessage {
  /** What the message is, e.g. 'dispatch', 'combine', 'result'. */
  readonly kind: string;
  /** Small JSON-serialisable payload: ids, positions, deadlines. Keep it small: it is the header. */
  readonly meta?: unknown;
  /** Tensor rows carried by the message. The receiver gets tensors it owns (not views into the ring) unless it leases (`LeasedMessage`). */
  readonly tensors?: readonly Tensor[];
  /**
   * Payload bytes the message stands for beyond its tensors: a simulation with numerics off sends rows as
   * shapes only, and the sim host charges links for these bytes as if they were carried. Ignored elsewhere.
   */
  readonly virtualBytes?: number;
}

/** The sending end of one directed channel (one sender actor → one receiver actor). */
export interface ChannelSender {
  readonly name: string;
  /** Resolves once the message is in the ring; waits while the ring is full (backpressure). */
  send(message: ChannelMessage): Promise<void>;
  /** Writes the message if it fits now; false if the ring is full. */
  trySend(message: ChannelMessage): boolean;
  /** No more messages: the receiver's inbox completes after draining. */
  close(): void;
}

/** The receiving end. Per channel, messages arrive exactly once and in send order. */
export interface ChannelReceiver {
  readonly name: string;
  readonly inbox$: Observable<ChannelMessage>;
  close(): void;
}
