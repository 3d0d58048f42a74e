// Its setup never finishes: the host's start timeout must fail the start.
import { defineActor } from '../../src/index.ts';

export default defineActor(() => new Promise<never>(() => {}));
