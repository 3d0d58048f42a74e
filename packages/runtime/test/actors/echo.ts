// Answers pings after a device op, reports its PRNG draws and fills its arena: for the timing and host-parity tests.
import { defineActor } from '@asap/runtime';

export default defineActor((ctx) => ({
  async onMessage(from, message) {
    if (message.kind === 'ping') {
      const flops = (message.meta as { flops?: number } | undefined)?.flops ?? 0;
      await ctx.device.run({ name: 'work', flops }, () => null);
      await ctx.send(from, { kind: 'pong', meta: { at: ctx.now() }, tensors: message.tensors });
    } else if (message.kind === 'alloc') {
      // Holds what it allocates, so the arena fills up; answers with the arena's figures or its error.
      const floats = message.meta as number;
      try {
        ctx.arena.alloc([floats]);
        await ctx.send(from, { kind: 'alloc', meta: { used: ctx.arena.used, budget: ctx.arena.budgetBytes } });
      } catch (error) {
        await ctx.send(from, { kind: 'alloc', meta: { error: (error as Error).message } });
      }
    } else if (message.kind === 'random') {
      await ctx.send(from, { kind: 'random', meta: [ctx.random(), ctx.random(), ctx.random()] });
    } else {
      throw new Error(`echo: unexpected message "${message.kind}"`);
    }
  },
}));
