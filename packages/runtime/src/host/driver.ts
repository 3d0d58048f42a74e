import { type Observable, Subject, throwError } from 'rxjs';
import type { Envelope } from '../actor/context.ts';
import type { ActorId } from '../actor/ids.ts';
import type { ChannelMessage } from '../channel/message.ts';

/**
 * The driver's inbox on either host. Any actor crash errors every driver stream, because a crash anywhere can
 * leave the driver waiting for a reply that will never come.
 */
export class DriverInbox {
  private readonly all = new Subject<Envelope>();
  private readonly byActor = new Map<ActorId, Subject<ChannelMessage>>();
  private failure: Error | undefined;
  readonly inbox$: Observable<Envelope> = this.all.asObservable();

  constructor(private readonly actors: readonly ActorId[]) {}

  inboxFrom(actor: ActorId): Observable<ChannelMessage> {
    if (!this.actors.includes(actor)) {
      throw new TypeError(`host.inboxFrom("${actor}"): no such actor (actors: ${this.actors.join(', ')})`);
    }
    const failure = this.failure;
    if (failure) return throwError(() => failure);
    let subject = this.byActor.get(actor);
    if (!subject) {
      subject = new Subject<ChannelMessage>();
      this.byActor.set(actor, subject);
    }
    return subject.asObservable();
  }

  deliver(from: ActorId, message: ChannelMessage): void {
    if (this.failure) return;
    this.byActor.get(from)?.next(message);
    this.all.next({ from, message });
  }

  fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const subject of this.byActor.values()) subject.error(error);
    this.all.error(error);
  }

  complete(): void {
    for (const subject of this.byActor.values()) subject.complete();
    this.all.complete();
  }
}
