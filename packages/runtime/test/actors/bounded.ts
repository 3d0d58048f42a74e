// Counts how many of its handlers run at once and in which order they start: for the in-flight limit tests.
import { defineActor } from '@asap/runtime';

export default defineActor((ctx) => {
  let active = 0;
  let maxActive = 0;
  const order: number[] = [];
  return {
    async onMessage(from, message) {
      order.push(message.meta as number);
      active++;
      maxActive = Math.max(maxActive, active);
      if (message.kind === 'hold') await new Promise<never>(() => {});
      await ctx.after(1);
      active--;
      await ctx.send(from, { kind: 'done', meta: message.meta });
    },
    stats: () => ({ maxActive, order }),
  };
});
