/** Lets the event loop run one turn (timers, I/O, other promises) before continuing. */
export function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
