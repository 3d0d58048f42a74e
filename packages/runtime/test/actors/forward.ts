// Forwards whatever the driver sends to one fixed actor.
import { DRIVER, defineActor } from '@asap/runtime';

export default defineActor<{ to: string }>((ctx, config) => ({
  async onMessage(from, message) {
    if (from === DRIVER) await ctx.send(config.to, message);
  },
}));
