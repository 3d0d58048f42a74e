// A built (plain JavaScript) actor module: answers each message with its meta.
import { defineActor } from '@asap/runtime';

export default defineActor((ctx) => ({
  async onMessage(from, message) {
    await ctx.send(from, { kind: 'echo', meta: message.meta });
  },
}));
