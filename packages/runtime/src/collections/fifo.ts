/** A first-in first-out queue whose take is O(1) (an array's shift may copy what is left). */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  put(item: T): void {
    this.items.push(item);
  }

  /** The oldest item; the queue must not be empty. */
  take(): T {
    const item = this.items[this.head];
    this.items[this.head++] = undefined as T;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
