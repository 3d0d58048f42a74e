// A module without a defineActor default export: spawning it must fail clearly.
export const answer = 42;
