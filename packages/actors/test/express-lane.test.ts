// The express lane: a short request with a tight deadline that arrives while every micro-batch slot is taken
// opens one more micro-batch instead of waiting a whole round trip for a slot (sim host: virtual time).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Engine, PrefillOutcome } from '@asap/actors';
import { FIXTURES_DIR } from './support/checkpoints.ts';
import { mixedPrompts, referenceOutcomes, withEngine } from './support/engines.ts';

const model = join(FIXTURES_DIR, 'qwen2_moe-F32');
// Two long prompts that fill both slots (one micro-batch each), then a short urgent one.
// Links slow against compute, as at cluster scale: a micro-batch's round trip is mostly waiting, which an
// extra micro-batch overlaps (on a compute-bound rank it would only queue behind the others' ops).
const sim = { link: { latencyMs: 1, gbps: 5 } };
const [warmUp, longA, longB, short] = mixedPrompts(200, [64, 64, 64, 3]);

interface Run {
  readonly roundTripMs: number;
  readonly short: PrefillOutcome;
  readonly long: readonly PrefillOutcome[];
}

/** A warm-up request measures the round trip; then both slots fill and the short request arrives with an SLO of 1.2 round trips. */
async function urgentBehindFullSlots(expressRoundTrips: number): Promise<Run> {
  return withEngine(
    { model, host: 'sim', sim, engine: 'asap', attentionRanks: 1, expertRanks: 1, asap: { microBatchTokens: 64, microBatches: 2, expressRoundTrips } },
    async (engine: Engine) => {
      const { ttftMs: roundTripMs } = await engine.prefill({ tokens: warmUp });
      const loose = { ttftSloMs: 100 * roundTripMs, logits: true };
      const longs = [engine.prefill({ tokens: longA, ...loose }), engine.prefill({ tokens: longB, ...loose })];
      const urgent = engine.prefill({ tokens: short, ttftSloMs: 1.2 * roundTripMs, logits: true });
      return { roundTripMs, short: await urgent, long: await Promise.all(longs) };
    },
  );
}

function assertReference(got: PrefillOutcome, want: PrefillOutcome, what: string): void {
  assert.equal(got.firstToken, want.firstToken, `${what}: first token`);
  assert.deepEqual([...(got.logits ?? [])], [...(want.logits ?? [])], `${what}: logits`);
}

test('a request that would miss waiting for a slot opens one more micro-batch: it meets its deadline, results stay exact', async () => {
  const [, wantA, wantB, wantShort] = await referenceOutcomes(model, [warmUp, longA, longB, short], 'wasm');
  const without = await urgentBehindFullSlots(0);
  const withLane = await urgentBehindFullSlots(1.5);
  // Without the lane the short request waits for a long micro-batch to finish, then makes its own trip: a miss.
  assert.ok(without.short.ttftMs > 1.2 * without.roundTripMs, `without: short TTFT ${without.short.ttftMs} ms, SLO ${1.2 * without.roundTripMs} ms`);
  assert.ok(withLane.short.ttftMs < 1.2 * withLane.roundTripMs, `express lane: short TTFT ${withLane.short.ttftMs} ms, SLO ${1.2 * withLane.roundTripMs} ms`);
  for (const run of [without, withLane]) {
    assertReference(run.short, wantShort, 'short');
    assertReference(run.long[0], wantA, 'long A');
    assertReference(run.long[1], wantB, 'long B');
  }
});

test('the lane opens only for a deadline: without one the short request waits for a slot as before', async () => {
  const run = await withEngine(
    { model, host: 'sim', sim, engine: 'asap', attentionRanks: 1, expertRanks: 1, asap: { microBatchTokens: 64, microBatches: 2, expressRoundTrips: 1.5 } },
    async (engine: Engine) => {
      const { ttftMs: roundTripMs } = await engine.prefill({ tokens: warmUp });
      const longs = [engine.prefill({ tokens: longA }), engine.prefill({ tokens: longB })];
      const shortOutcome = await engine.prefill({ tokens: short });
      await Promise.all(longs);
      return { roundTripMs, shortOutcome };
    },
  );
  assert.ok(run.shortOutcome.ttftMs > run.roundTripMs, `short TTFT ${run.shortOutcome.ttftMs} ms, round trip ${run.roundTripMs} ms`);
});

test('asap.expressRoundTrips must be a finite number >= 0', async () => {
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    await assert.rejects(
      withEngine({ model, host: 'sim', engine: 'asap', attentionRanks: 1, expertRanks: 1, asap: { expressRoundTrips: bad } }, async () => undefined),
      /asap\.expressRoundTrips must be a finite number >= 0/,
    );
  }
});
