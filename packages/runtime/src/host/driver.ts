import { Observable, ReplaySubject, Subject, throwError } from 'rxjs';
import type { Envelope } from '../actor/context.ts';
import { type ActorCrashedError, ActorStoppedError } from '../errors.ts';
import type { ActorId } from '../actor/ids.ts';
import type { ChannelMessage } from '../channel/message.ts';

/**
 * The driver's inbox on either host. A crash fails what depends on the crashed actor: its own stream
 * (`inboxFrom(actor)`) and the merged `inbox$` (a driver waiting there may be waiting for the dead actor);
 * streams from the other actors keep delivering, and `crashes$` tells the driver who died. Shutdown ends
 * every stream with an error that says so, so nothing still waiting hangs or sees a bare "no elements".
 */
export class DriverInbox {
  private readonly all = new Subject<Envelope>();
  private readonly byActor = new Map<ActorId, Subject<ChannelMessage>>();
  private readonly crashed = new Map<ActorId, ActorCrashedError>();
  private readonly crashLog = new ReplaySubject<ActorCrashedError>();
  /** Set once every stream has ended: the host shut down, or the driver's own plumbing failed. */
  private ended: Error | undefined;
  private allFailed = false;
  private subscribers = 0;
  private keepAlive: NodeJS.Timeout | undefined;
  readonly inbox$: Observable<Envelope>;
  readonly crashes$: Observable<ActorCrashedError>;

  /**
   * @param holdThread keep the thread alive while the driver is subscribed to any stream (threads host: the
   * channels themselves do not, so a driver that is done lets the process exit).
   */
  constructor(
    private readonly actors: readonly ActorId[],
    private readonly holdThread = false,
  ) {
    this.inbox$ = this.counted(this.all);
    this.crashes$ = this.counted(this.crashLog);
  }

  inboxFrom(actor: ActorId): Observable<ChannelMessage> {
    if (!this.actors.includes(actor)) {
      throw new TypeError(`host.inboxFrom("${actor}"): no such actor (actors: ${this.actors.join(', ')})`);
    }
    const failure = this.crashed.get(actor) ?? this.ended;
    if (failure) return throwError(() => failure);
    let subject = this.byActor.get(actor);
    if (!subject) {
      subject = new Subject<ChannelMessage>();
      this.byActor.set(actor, subject);
    }
    return this.counted(subject);
  }

  deliver(from: ActorId, message: ChannelMessage): void {
    if (this.ended || this.crashed.has(from)) return;
    this.byActor.get(from)?.next(message);
    if (!this.allFailed) this.all.next({ from, message });
  }

  /** One actor crashed: its stream and the merged inbox fail with its error; the others go on. */
  actorCrashed(error: ActorCrashedError): void {
    if (this.ended || this.crashed.has(error.actor)) return;
    this.crashed.set(error.actor, error);
    this.byActor.get(error.actor)?.error(error);
    this.byActor.delete(error.actor);
    if (!this.allFailed) {
      this.allFailed = true;
      this.all.error(error);
    }
    this.crashLog.next(error);
  }

  /** The driver's own plumbing failed (a channel it reads broke): every stream fails. */
  fail(error: Error): void {
    this.end(error, () => error);
  }

  /** The host shut down: every stream still open fails with an error saying so. */
  shutDown(): void {
    this.end(new Error('the host was shut down: no more messages will arrive'), (actor) => new ActorStoppedError(actor, 'the host shut down'));
  }

  private end(error: Error, forActor: (actor: ActorId) => Error): void {
    if (this.ended) return;
    this.ended = error;
    for (const [actor, subject] of this.byActor) subject.error(forActor(actor));
    this.byActor.clear();
    if (!this.allFailed) {
      this.allFailed = true;
      this.all.error(error);
    }
    this.crashLog.complete();
    this.setHeld(false);
  }

  /** The subject's stream, counting subscribers so the thread stays alive exactly while someone listens. */
  private counted<T>(subject: Subject<T>): Observable<T> {
    return new Observable<T>((subscriber) => {
      this.subscribers++;
      this.setHeld(true);
      const subscription = subject.subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        if (--this.subscribers === 0) this.setHeld(false);
      };
    });
  }

  private setHeld(held: boolean): void {
    if (!this.holdThread) return;
    if (held && !this.ended && this.subscribers > 0) {
      this.keepAlive ??= setInterval(() => {}, 2 ** 30);
    } else if (!held && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }
}
