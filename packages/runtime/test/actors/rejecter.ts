// Lets a send fail without awaiting it, the two ways actor code forgets a promise: for the rejection-attribution test.
import { defineActor } from '../../src/index.ts';

export default defineActor((ctx) => ({
  onMessage(_from, message) {
    // "nobody" is not one of its destinations: the send rejects, and nothing handles it.
    if (message.kind === 'forget') void ctx.send('nobody', { kind: 'lost' });
    if (message.kind === 'forget-chained') void ctx.send('nobody', { kind: 'lost' }).then(() => ctx.log('unreachable'));
  },
}));
