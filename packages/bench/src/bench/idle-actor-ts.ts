// The idle actor as a TypeScript module: its worker must register tsx to load it (see `bench workers`).
import { defineActor } from '@asap/runtime';

export default defineActor(() => ({}));
