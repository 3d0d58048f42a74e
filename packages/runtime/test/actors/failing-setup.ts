import { defineActor } from '../../src/index.ts';

export default defineActor(() => {
  throw new Error('setup failed on purpose');
});
