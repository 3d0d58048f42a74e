// Handles nothing: a message to it must fail loudly rather than vanish.
import { defineActor } from '../../src/index.ts';

export default defineActor(() => ({}));
