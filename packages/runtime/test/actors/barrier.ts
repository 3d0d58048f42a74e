// Stream style: one message from every rank per round (rankBarrier), reported to the driver.
import { concatMap } from 'rxjs';
import { DRIVER, defineActor, rankBarrier } from '@asap/runtime';

export default defineActor<{ ranks: string[] }>((ctx, config) => ({
  run$: rankBarrier(config.ranks.map((rank) => ctx.inboxFrom(rank))).pipe(
    concatMap((round) => {
      if (round.some((m) => m.kind === 'poison')) throw new Error('poisoned round');
      return ctx.send(DRIVER, { kind: 'round', meta: round.map((m) => m.meta) });
    }),
  ),
}));
