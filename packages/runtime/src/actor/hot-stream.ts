import { Observable, type Subscriber } from 'rxjs';

/**
 * A hot stream, as an RxJS Subject behaves for one that only pushes (next, error, complete) and hands out
 * `observable`: each item goes to the subscribers of the moment, in subscription order; after an error or
 * completion, later subscribers get that at once. An actor's inbox streams take every message it receives;
 * RxJS's Subject made a closure and an iterator per item (its CommonJS build is ES5), this a loop.
 */
export class HotStream<T> {
  /** Replaced, never changed in place: an item goes to the subscribers there were when it was pushed. */
  private subscribers: readonly Subscriber<T>[] = [];
  private stopped = false;
  private failure: { error: unknown } | undefined;
  readonly observable: Observable<T> = new Observable<T>((subscriber) => this.subscribe(subscriber));

  get observed(): boolean {
    return this.subscribers.length > 0;
  }

  next(item: T): void {
    if (this.stopped) return;
    const subscribers = this.subscribers;
    for (let i = 0; i < subscribers.length; i++) subscribers[i].next(item);
  }

  error(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.failure = { error };
    for (const subscriber of this.takeSubscribers()) subscriber.error(error);
  }

  complete(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const subscriber of this.takeSubscribers()) subscriber.complete();
  }

  private takeSubscribers(): readonly Subscriber<T>[] {
    const subscribers = this.subscribers;
    this.subscribers = [];
    return subscribers;
  }

  private subscribe(subscriber: Subscriber<T>): (() => void) | undefined {
    if (this.failure) {
      subscriber.error(this.failure.error);
      return undefined;
    }
    if (this.stopped) {
      subscriber.complete();
      return undefined;
    }
    this.subscribers = [...this.subscribers, subscriber];
    return () => {
      this.subscribers = this.subscribers.filter((s) => s !== subscriber);
    };
  }
}
