/** A message that can never fit the channel's ring, however long the sender waits. */
export class MessageTooLargeError extends Error {
  constructor(
    readonly channel: string,
    readonly messageBytes: number,
    readonly capacityBytes: number,
  ) {
    super(
      `channel "${channel}": message needs ${messageBytes} bytes in the ring but its capacity is ${capacityBytes} bytes; ` +
        `send fewer rows per message or create the ring larger`,
    );
    this.name = 'MessageTooLargeError';
  }
}

/** Sending on a channel that is closed (by its sender or receiver) or aborted; or a receiver seeing an abort. */
export class ChannelClosedError extends Error {
  constructor(
    readonly channel: string,
    readonly reason: string,
  ) {
    super(`channel "${channel}": ${reason}`);
    this.name = 'ChannelClosedError';
  }
}
