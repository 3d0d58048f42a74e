import type { Observable, Subscription } from 'rxjs';

/**
 * A hot stream read one item at a time with `await next()`: what lets a rank's step loop be written in
 * order while the stream (a zip barrier, a merge) decides what an item is. Errors reach every reader.
 */
export class PullQueue<T> {
  private readonly items: T[] = [];
  private readonly readers: Array<{ resolve: (item: T) => void; reject: (error: unknown) => void }> = [];
  private failure: { error: unknown } | undefined;
  private readonly subscription: Subscription;

  constructor(source: Observable<T>, private readonly name: string) {
    this.subscription = source.subscribe({
      next: (item) => {
        const reader = this.readers.shift();
        if (reader) reader.resolve(item);
        else this.items.push(item);
      },
      error: (error: unknown) => this.fail(error),
      complete: () => this.fail(new Error(`${this.name}: the stream ended`)),
    });
  }

  /** Items that arrived and were not read yet. */
  get buffered(): number {
    return this.items.length;
  }

  next(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift() as T);
    if (this.failure) return Promise.reject(this.failure.error);
    return new Promise<T>((resolve, reject) => this.readers.push({ resolve, reject }));
  }

  close(): void {
    this.subscription.unsubscribe();
    this.fail(new Error(`${this.name}: closed`));
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    for (const reader of this.readers.splice(0)) reader.reject(this.failure.error);
  }
}

/** A wake-up call: `wait()` resolves at the next `notify()` (or at once if one came since the last wait). */
export class Wakeup {
  private pending = false;
  private waiter: (() => void) | undefined;

  notify(): void {
    if (this.waiter) {
      const resolve = this.waiter;
      this.waiter = undefined;
      resolve();
    } else this.pending = true;
  }

  wait(): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => (this.waiter = resolve));
  }
}
