import { defineActor } from '@asap/runtime';

export default defineActor(() => {
  throw new Error('setup failed on purpose');
});
