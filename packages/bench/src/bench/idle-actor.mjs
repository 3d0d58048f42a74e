// The smallest actor, in plain JavaScript (no tsx needed to load it): what `bench workers` starts, so the
// figure is the worker's own start (runtime, comlink, rings), not the cost of compiling the actor.
import { defineActor } from '@asap/runtime';

export default defineActor(() => ({}));
