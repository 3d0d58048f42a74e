// Reports its config and whether it could change it: for the test that sim actors given one config share a frozen copy.
import { defineActor } from '@asap/runtime';

interface ReaderConfig {
  readonly peers: string[];
}

export default defineActor<ReaderConfig>((ctx, config) => ({
  async onMessage(from, message) {
    if (message.kind !== 'write') throw new Error(`config-reader: unexpected message "${message.kind}"`);
    let refused = '';
    try {
      config.peers.push(ctx.id);
    } catch (error) {
      refused = (error as Error).name;
    }
    await ctx.send(from, { kind: 'config', meta: { peers: config.peers, refused } });
  },
}));
