// Run as a child process by channel-faults.test.ts: subscribes, lets the receiver park, unsubscribes, and must exit.
import { createRing, ringReceiver, ringSender } from '../src/index.ts';
import { RECEIVER_SLEEPING, controlWords } from '../src/channel/ring.ts';
import { yieldTurn } from '../src/memory/yield-turn.ts';

const ring = createRing('exit', 4096);
ringSender(ring);
const receiver = ringReceiver(ring, { pollUs: 0 });
const subscription = receiver.inbox$.subscribe(() => {});
const control = controlWords(ring);
while (Atomics.load(control, RECEIVER_SLEEPING) !== 1) await yieldTurn();
subscription.unsubscribe();
console.log('unsubscribed');
