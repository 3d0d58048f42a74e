// Every figure of one engine's run, from its request log and rank usage: the unit a report is made of.
import type { EngineSetup } from '../run/engines.ts';
import { type Percentiles, percentiles } from './percentile.ts';
import { type RankUsage, idealBound } from './ranks.ts';
import type { RequestRecord } from './request-log.ts';
import { SLO_SCALES, type UnloadedTtft, attainment, sloThroughput } from './slo.ts';

export type PerSloScale = Readonly<Record<`${(typeof SLO_SCALES)[number]}`, number>>;

export interface RunSummary {
  readonly setup: EngineSetup;
  readonly requests: number;
  readonly promptTokens: number;
  readonly elapsedMs: number;
  readonly ttftMs: Percentiles;
  readonly attainment: PerSloScale;
  /** Prompt tokens/s over the run. */
  readonly tokensPerS: number;
  /** Prompt tokens/s of the requests within their SLO. */
  readonly sloTokensPerS: PerSloScale;
  readonly ranks: readonly RankUsage[];
  readonly ideal: { readonly tokensPerS: number; readonly requestsPerS: number };
}

function perScale(f: (scale: number) => number): PerSloScale {
  return Object.fromEntries(SLO_SCALES.map((s) => [String(s), f(s)])) as unknown as PerSloScale;
}

/** Share of a run's requests within sloScale × their unloaded TTFT, at one of the reported scales. */
export function attainmentAt(summary: RunSummary, sloScale: number): number {
  return summary.attainment[String(sloScale) as keyof RunSummary['attainment']];
}

/** The figures a run has without an SLO yardstick. */
export type LoadFigures = Pick<RunSummary, 'requests' | 'promptTokens' | 'elapsedMs' | 'ttftMs' | 'tokensPerS' | 'ideal'>;

export function loadFigures(records: readonly RequestRecord[], elapsedMs: number, usage: readonly RankUsage[]): LoadFigures {
  const promptTokens = records.reduce((n, r) => n + r.promptTokens, 0);
  return {
    requests: records.length,
    promptTokens,
    elapsedMs,
    ttftMs: percentiles(records.map((r) => r.ttftMs)),
    tokensPerS: elapsedMs > 0 ? (promptTokens * 1000) / elapsedMs : 0,
    ideal: idealBound(usage, promptTokens, records.length),
  };
}

export function summarize(setup: EngineSetup, records: readonly RequestRecord[], elapsedMs: number, usage: readonly RankUsage[], curve: UnloadedTtft): RunSummary {
  return {
    setup,
    ...loadFigures(records, elapsedMs, usage),
    attainment: perScale((s) => attainment(records, curve, s)),
    sloTokensPerS: perScale((s) => sloThroughput(records, curve, s, elapsedMs)),
    ranks: usage,
  };
}
