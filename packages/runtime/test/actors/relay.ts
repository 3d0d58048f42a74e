// A peer that waits on another actor and records what happened, for the supervision tests.
import { firstValueFrom } from 'rxjs';
import { DRIVER, defineActor } from '@asap/runtime';

export interface RelayConfig {
  readonly target: string;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export default defineActor<RelayConfig, { replies: number; errors: string[] }>((ctx, config) => {
  let replies = 0;
  const errors: string[] = [];
  return {
    async onMessage(from, message) {
      if (from !== DRIVER) return; // replies are read through inboxFrom below
      if (message.kind === 'wait') {
        // Wait for a message the target will never send, and tell the driver we are waiting.
        firstValueFrom(ctx.inboxFrom(config.target)).then(
          () => replies++,
          (error: unknown) => errors.push(describe(error)),
        );
        await ctx.send(DRIVER, { kind: 'waiting' });
      } else if (message.kind === 'send') {
        try {
          await ctx.send(config.target, { kind: 'ping' });
        } catch (error) {
          errors.push(describe(error));
        }
      }
    },
    stats: () => ({ replies, errors }),
  };
});
