// Sends each message's meta back unchanged: for the tests that both hosts deliver the same meta.
import { defineActor } from '@asap/runtime';

export default defineActor((ctx) => ({
  async onMessage(from, message) {
    await ctx.send(from, { kind: 'echo', meta: message.meta });
  },
}));
