// An actor that fails on request, each way an actor can fail.
import { defineActor } from '@asap/runtime';

export default defineActor((ctx) => ({
  async onMessage(from, message) {
    switch (message.kind) {
      case 'ping':
        await ctx.send(from, { kind: 'pong' });
        return;
      case 'throw':
        throw new Error('thrown on purpose');
      case 'reject':
        await ctx.after(1);
        throw new Error('rejected on purpose');
      case 'timer-throw':
        ctx.setTimer(1, () => {
          throw new Error('thrown in a timer on purpose');
        });
        return;
      case 'exit':
        process.exit(3);
      case 'spin':
        // Says so first, so a test knows the loop has begun (and stats can no longer be answered).
        await ctx.send(from, { kind: 'spinning' });
        for (;;);
      default:
        throw new Error(`crasher: unexpected message "${message.kind}"`);
    }
  },
}));
