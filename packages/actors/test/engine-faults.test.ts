// Engines under bad input and faults: configuration refused before any worker starts, a rank crashing
// mid-request, cancellation releasing memory on every rank, bounded admission, and the spans a trace shows.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { filter, firstValueFrom, toArray } from 'rxjs';
import {
  createEngine,
  EngineConfigError,
  EngineFailedError,
  EngineOverloadedError,
  type EngineOptions,
  PrefillCancelledError,
  PrefillRequestError,
  type RankSpan,
} from '@asap/actors';
import { FIXTURES_DIR } from './support/checkpoints.ts';
import { assertMatchesReference, mixedPrompts, withEngine } from './support/engines.ts';

const model = join(FIXTURES_DIR, 'qwen3_moe-F32');
const prompts = mixedPrompts(200);

describe('configuration is checked before any worker starts', () => {
  const bad: ReadonlyArray<readonly [string, EngineOptions, RegExp]> = [
    ['zero ranks', { model, engine: 'sync', ranks: 0 }, /ranks must be a positive integer/],
    ['an unknown engine', { model, engine: 'turbo' as never }, /unknown engine "turbo"/],
    ['an unknown backend', { model, engine: 'sync', backend: 'cuda' as never }, /unavailable backend "cuda"/],
    ['a budget below one token', { model, engine: 'sync', sync: { tokenBudget: 0 } }, /sync.tokenBudget must be a positive integer/],
    ['no expert rank', { model, engine: 'asap', attentionRanks: 1, expertRanks: 0 }, /expertRanks must be a positive integer/],
    ['sync given an asap split', { model, engine: 'sync', attentionRanks: 1, expertRanks: 1 }, /give ranks, not attentionRanks/],
    ['a missing model', { model: join(FIXTURES_DIR, 'nope'), engine: 'sync' }, /nope/],
  ];
  for (const [what, options, message] of bad) {
    test(what, async () => {
      const started = performance.now();
      await assert.rejects(createEngine({ ...options, host: 'threads' }), (error: Error) => {
        assert.match(error.message, message);
        return true;
      });
      assert.ok(performance.now() - started < 2000, 'rejected before starting workers');
    });
  }
  test('more ranks than experts: the hottest experts get redundant copies and results stay the reference\'s', async () => {
    for (const options of [
      { model, engine: 'sync', host: 'sim', ranks: 10 },
      { model, engine: 'asap', host: 'sim', attentionRanks: 1, expertRanks: 12 },
    ] as const) {
      await withEngine(options, (engine) => assertMatchesReference(engine, model, prompts.slice(0, 3)));
    }
  });
  test('a bad prompt is refused without reaching a rank', () =>
    withEngine({ model, engine: 'sync', host: 'sim' }, async (engine) => {
      await assert.rejects(engine.prefill({ tokens: [] }), PrefillRequestError);
      await assert.rejects(engine.prefill({ tokens: [1, 5000] }), /token 5000 at position 1 is out of range/);
      await assert.rejects(engine.prefill({ tokens: [1], ttftSloMs: -1 }), /ttftSloMs/);
      await assertMatchesReference(engine, model, prompts.slice(0, 2));
    }),
  );
});

describe('a rank crashing mid-request fails what it touched, names the rank, and nothing hangs', () => {
  const cases: ReadonlyArray<readonly [string, EngineOptions, string]> = [
    ['sync rank, threads', { model, engine: 'sync', host: 'threads', ranks: 2, sync: { tokenBudget: 16 }, fault: { rank: 'rank-1', afterOps: 6 } }, 'rank-1'],
    ['sync rank, sim', { model, engine: 'sync', host: 'sim', ranks: 2, sync: { tokenBudget: 16 }, fault: { rank: 'rank-0', afterOps: 6 } }, 'rank-0'],
    ['asap attention rank, sim', { model, engine: 'asap', host: 'sim', attentionRanks: 2, expertRanks: 2, fault: { rank: 'attn-0', afterOps: 4 } }, 'attn-0'],
    ['asap expert rank, threads', { model, engine: 'asap', host: 'threads', attentionRanks: 1, expertRanks: 2, fault: { rank: 'expert-1', afterOps: 2 } }, 'expert-1'],
  ];
  for (const [what, options, rank] of cases) {
    test(what, () =>
      withEngine(options, async (engine) => {
        const outcomes = await Promise.allSettled(prompts.map((tokens) => engine.prefill({ tokens })));
        const failed = outcomes.filter((o) => o.status === 'rejected');
        assert.ok(failed.length > 0, 'some requests failed');
        for (const f of failed) {
          assert.ok(f.reason instanceof EngineFailedError, String(f.reason));
          assert.equal(f.reason.rank, rank);
        }
        assert.ok(engine.failure instanceof EngineFailedError, 'the engine reports itself failed');
        await assert.rejects(engine.prefill({ tokens: [1, 2] }), EngineFailedError);
      }),
    );
  }
});

describe('a rank stuck in a loop is noticed by its heartbeat: what it touched fails, naming it; nothing hangs', () => {
  const cases: ReadonlyArray<readonly [string, EngineOptions, string]> = [
    ['sync rank', { model, engine: 'sync', ranks: 2, sync: { tokenBudget: 16 }, fault: { rank: 'rank-1', afterOps: 5, kind: 'stall' } }, 'rank-1'],
    ['asap expert rank', { model, engine: 'asap', attentionRanks: 1, expertRanks: 2, fault: { rank: 'expert-0', afterOps: 2, kind: 'stall' } }, 'expert-0'],
  ];
  for (const [what, options, rank] of cases) {
    test(what, () =>
      withEngine({ ...options, host: 'threads', stallTimeoutMs: 500 }, async (engine) => {
        const started = performance.now();
        const outcomes = await Promise.allSettled(prompts.map((tokens) => engine.prefill({ tokens })));
        const failed = outcomes.filter((o) => o.status === 'rejected');
        assert.ok(failed.length > 0, 'some requests failed');
        for (const f of failed) assert.equal((f.reason as EngineFailedError).rank, rank, String(f.reason));
        assert.match(String(engine.failure), /stalled|heartbeat/);
        assert.ok(performance.now() - started < 10_000, 'within a bounded time');
      }),
    );
  }
  test('an injected stall is refused under the sim host', () =>
    assert.rejects(createEngine({ model, engine: 'sync', host: 'sim', fault: { rank: 'rank-0', afterOps: 1, kind: 'stall' } }), EngineConfigError));
});

describe('cancellation', () => {
  for (const options of [
    { model, engine: 'sync', host: 'sim', ranks: 2, sync: { tokenBudget: 8 } },
    { model, engine: 'asap', host: 'sim', attentionRanks: 1, expertRanks: 2, asap: { microBatchTokens: 8 } },
    { model, engine: 'sync', host: 'threads', ranks: 2, sync: { tokenBudget: 8 } },
  ] satisfies EngineOptions[]) {
    test(`${options.engine} on ${options.host}: a long request cancelled mid-prefill frees its KV on every rank; others are unaffected`, () =>
      withEngine(options, async (engine) => {
        const before = await engine.stats();
        const controller = new AbortController();
        const long = Array.from({ length: 200 }, (_, i) => (i * 11) % 200);
        // Abort as soon as a rank has computed part of it.
        const started = firstValueFrom(engine.events$.pipe(filter((s) => s.kind === 'compute' && (s.requests ?? []).includes(0))));
        const cancelled = engine.prefill({ tokens: long, signal: controller.signal });
        await started;
        controller.abort();
        await assert.rejects(cancelled, PrefillCancelledError);
        await assertMatchesReference(engine, model, prompts.slice(0, 3));
        const after = await engine.stats();
        after.ranks.forEach((r, i) => assert.equal(r.kvBytes, before.ranks[i].kvBytes, `${r.rank}: KV bytes back to their level`));
      }),
    );
  }
  test('an aborted signal is refused at once', () =>
    withEngine({ model, engine: 'sync', host: 'sim' }, async (engine) => {
      await assert.rejects(engine.prefill({ tokens: [1, 2], signal: AbortSignal.abort() }), PrefillCancelledError);
    }));
});

test('admission is bounded: past the token limit requests wait in order, past the wait list they are refused', () =>
  withEngine({ model, engine: 'asap', host: 'sim', attentionRanks: 1, expertRanks: 1, maxQueuedTokens: 40, maxWaiting: 1 }, async (engine) => {
    const first = engine.prefill({ tokens: prompts[1] }); // 40 tokens: fills admission
    const second = engine.prefill({ tokens: prompts[0] }); // waits
    await assert.rejects(engine.prefill({ tokens: prompts[2] }), EngineOverloadedError);
    const [a, b] = await Promise.all([first, second]);
    assert.ok(b.ttftMs >= a.ttftMs, 'the waiting request finished after the admitted one');
  }));

describe('spans: the trace shows barrier waits under sync and none under asap', () => {
  const spansOf = async (options: EngineOptions): Promise<RankSpan[]> =>
    withEngine(options, async (engine) => {
      const all = firstValueFrom(engine.events$.pipe(toArray()));
      await Promise.all(prompts.map((tokens) => engine.prefill({ tokens })));
      await engine.close();
      return all;
    });
  test('sync', async () => {
    const spans = await spansOf({ model, engine: 'sync', host: 'sim', ranks: 2, sync: { tokenBudget: 16 } });
    assert.ok(spans.some((s) => s.kind === 'barrier-wait' && s.name === 'dispatch'), 'dispatch barrier waits');
    assert.ok(spans.some((s) => s.kind === 'compute' && s.name === 'attention' && (s.requests ?? []).length > 0), 'attention spans name requests');
    assert.deepEqual([...new Set(spans.map((s) => s.rank))].sort(), ['rank-0', 'rank-1']);
  });
  test('asap', async () => {
    const spans = await spansOf({ model, engine: 'asap', host: 'sim', attentionRanks: 2, expertRanks: 2 });
    assert.equal(spans.filter((s) => s.kind === 'barrier-wait').length, 0);
    assert.ok(spans.some((s) => s.kind === 'compute' && s.name === 'experts' && (s.rows ?? 0) > 0), 'expert batches with their rows');
    assert.ok(spans.some((s) => s.kind === 'queue-wait'), 'attention ranks wait for expert outputs');
  });
});
