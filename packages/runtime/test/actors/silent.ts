// Handles nothing: a message to it must fail loudly rather than vanish.
import { defineActor } from '@asap/runtime';

export default defineActor(() => ({}));
