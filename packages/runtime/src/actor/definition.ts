import type { Observable } from 'rxjs';
import type { ChannelMessage } from '../channel/message.ts';
import type { ActorContext } from './context.ts';
import type { ActorId } from './ids.ts';

/** What an actor's setup returns: how it reacts. Every member is optional. */
export interface ActorBehaviour<Stats = unknown> {
  /** Called for each message in arrival order (not awaited before the next). A throw or rejection crashes the actor. */
  onMessage?(from: ActorId, message: ChannelMessage): void | Promise<void>;
  /**
   * The actor's work as one stream (built from ctx.inbox$ / ctx.inboxFrom and the stream combinators). The host
   * subscribes to it; an error in it crashes the actor, so throw inside operators, not in subscribe callbacks.
   */
  readonly run$?: Observable<unknown>;
  /** Structured-cloneable figures for `host.stats(id)`. */
  stats?(): Stats;
  /** Called once at shutdown, before the host stops the actor. */
  stop?(): void | Promise<void>;
}

/**
 * Builds one actor instance. All of its state lives in this closure, so the sim host can run several
 * instances of one module in one thread. `config` is read-only: the sim host hands actors given one config
 * object one deep-frozen copy of it.
 */
export type ActorSetup<Config = unknown, Stats = unknown> = (
  ctx: ActorContext,
  config: Config,
) => ActorBehaviour<Stats> | Promise<ActorBehaviour<Stats>>;

// Symbol.for, not Symbol(): a module imported twice (two URLs for one file) still recognises its definitions.
const ACTOR_DEFINITION: unique symbol = Symbol.for('asap.actor-definition');

export interface ActorDefinition<Config = unknown, Stats = unknown> {
  readonly [ACTOR_DEFINITION]: true;
  readonly setup: ActorSetup<Config, Stats>;
}

/** Wraps an actor's setup; make it the default export of the actor's module. */
export function defineActor<Config = unknown, Stats = unknown>(
  setup: ActorSetup<Config, Stats>,
): ActorDefinition<Config, Stats> {
  if (typeof setup !== 'function') throw new TypeError('defineActor: setup must be a function (ctx, config) => behaviour');
  return { [ACTOR_DEFINITION]: true, setup };
}

export function isActorDefinition(value: unknown): value is ActorDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ACTOR_DEFINITION] === true;
}

/** Imports an actor module and returns its default export, which must come from defineActor. */
export async function loadActorDefinition(moduleUrl: string): Promise<ActorDefinition> {
  const imported = (await import(moduleUrl)) as { default?: unknown };
  if (!isActorDefinition(imported.default)) {
    throw new TypeError(`${moduleUrl} has no default export made by defineActor(...)`);
  }
  return imported.default;
}
