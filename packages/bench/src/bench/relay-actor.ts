// The sim-host bench's actor: each message costs one device op and is passed on to a random peer until its
// hop count runs out.
import { defineActor } from '@asap/runtime';

export interface RelayConfig {
  readonly hops: number;
}

export default defineActor<RelayConfig>((ctx, config) => ({
  async onMessage(_from, message) {
    const hops = message.kind === 'go' ? config.hops : (message.meta as { hops: number }).hops - 1;
    await ctx.device.run({ name: 'hop', flops: 1e6 }, () => 0);
    if (hops <= 0) return;
    const to = ctx.peers[Math.floor(ctx.random() * ctx.peers.length)];
    await ctx.send(to, { kind: 'hop', meta: { hops } });
  },
}));
