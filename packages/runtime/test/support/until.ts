import { yieldTurn } from '../../src/memory/yield-turn.ts';

/** Lets the event loop run until `condition` holds (the test's own timeout bounds a failure). */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await yieldTurn();
}
