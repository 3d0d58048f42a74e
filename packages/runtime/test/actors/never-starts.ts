// Its setup never finishes: the host's start timeout must fail the start.
import { defineActor } from '@asap/runtime';

export default defineActor(() => new Promise<never>(() => {}));
