/** Names an actor (a rank) within one host, e.g. "attn-0" or "expert-3". */
export type ActorId = string;

/**
 * The host's own endpoint: the code that started the host (a test, the CLI, an engine's front door) sends
 * and receives as this id. Actors reach it with `ctx.send(DRIVER, message)`.
 */
export const DRIVER: ActorId = 'driver';

const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** An actor id must be short, printable and not the driver's: it names channels, errors and events. */
export function checkActorId(id: unknown, where: string): asserts id is ActorId {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new TypeError(`${where}: actor id ${JSON.stringify(id)} must be 1-64 characters of A-Z a-z 0-9 _ . : -`);
  }
  if (id === DRIVER) throw new TypeError(`${where}: actor id "${DRIVER}" is reserved for the host's driver endpoint`);
}
