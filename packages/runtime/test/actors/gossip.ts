// Random traffic for the determinism test: random peers, random waits, random device work, a debounced
// stream on the injected scheduler.
import { debounceTime, filter, tap } from 'rxjs';
import { type Tensor, defineActor } from '@asap/runtime';

export interface GossipConfig {
  readonly hops: number;
}

export default defineActor<GossipConfig>((ctx, config) => {
  const pick = (): string => ctx.peers[Math.floor(ctx.random() * ctx.peers.length)];
  return {
    run$: ctx.inbox$.pipe(
      filter(({ message }) => message.kind === 'rumour'),
      debounceTime(0.5, ctx.scheduler),
      tap(() => ctx.log('quiet', { at: ctx.now() })),
    ),
    async onMessage(_from, message) {
      if (message.kind === 'start') {
        for (let i = 0; i < 3; i++) {
          await ctx.after(ctx.random() * 2);
          await ctx.send(pick(), { kind: 'rumour', meta: { hop: 0 }, tensors: message.tensors });
        }
        return;
      }
      const { hop } = message.meta as { hop: number };
      const [payload] = message.tensors as Tensor[];
      const sum = await ctx.device.run({ name: 'sum', flops: Math.floor(ctx.random() * 1e7) }, () =>
        payload.toF32().reduce((a, b) => a + b, 0),
      );
      ctx.log('heard', { hop, sum });
      if (hop < config.hops) await ctx.send(pick(), { kind: 'rumour', meta: { hop: hop + 1 }, tensors: [payload] });
    },
  };
});
