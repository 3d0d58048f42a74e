// Bounded admission: prompt tokens admitted and not yet finished stay under a limit; requests beyond it
// wait in arrival order, and past a bounded wait list they are refused. Memory stays bounded by
// configuration, not by load.
import { EngineClosedError, EngineOverloadedError, PrefillCancelledError } from '../errors.ts';

interface Waiter {
  readonly tokens: number;
  readonly id: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class Admission {
  private admitted = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly maxTokens: number,
    private readonly maxWaiting: number,
  ) {}

  get admittedTokens(): number {
    return this.admitted;
  }

  /** Resolves once `tokens` fit; rejects at once when the wait list is full, or on abort. */
  enter(id: number, tokens: number, signal?: AbortSignal): Promise<void> {
    if (this.waiting.length === 0 && (this.admitted + tokens <= this.maxTokens || this.admitted === 0)) {
      this.admitted += tokens;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(
        new EngineOverloadedError(`${this.admitted} tokens admitted (limit ${this.maxTokens}) and ${this.waiting.length} requests already waiting (limit ${this.maxWaiting})`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { tokens, id, resolve, reject };
      this.waiting.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.waiting.indexOf(waiter);
          if (i < 0) return;
          this.waiting.splice(i, 1);
          reject(new PrefillCancelledError(id));
          this.admitWaiting();
        },
        { once: true },
      );
    });
  }

  leave(tokens: number): void {
    this.admitted -= tokens;
    this.admitWaiting();
  }

  close(why: string): void {
    for (const w of this.waiting.splice(0)) w.reject(new EngineClosedError(why));
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0];
      if (this.admitted > 0 && this.admitted + next.tokens > this.maxTokens) return;
      this.waiting.shift();
      this.admitted += next.tokens;
      next.resolve();
    }
  }
}
