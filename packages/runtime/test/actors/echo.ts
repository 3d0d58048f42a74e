// Answers pings after a device op, and reports its PRNG draws: for the timing and host-parity tests.
import { defineActor } from '../../src/index.ts';

export default defineActor((ctx) => ({
  async onMessage(from, message) {
    if (message.kind === 'ping') {
      const flops = (message.meta as { flops?: number } | undefined)?.flops ?? 0;
      await ctx.device.run({ name: 'work', flops }, () => null);
      await ctx.send(from, { kind: 'pong', meta: { at: ctx.now() }, tensors: message.tensors });
    } else if (message.kind === 'random') {
      await ctx.send(from, { kind: 'random', meta: [ctx.random(), ctx.random(), ctx.random()] });
    } else {
      throw new Error(`echo: unexpected message "${message.kind}"`);
    }
  },
}));
