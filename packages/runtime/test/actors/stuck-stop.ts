// Its stop never finishes: shutdown must still end (after its timeout) under either host.
import { defineActor } from '../../src/index.ts';

export default defineActor(() => ({
  stop: () => new Promise<never>(() => {}),
}));
