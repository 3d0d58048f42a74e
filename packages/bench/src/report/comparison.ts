// A comparison as one plain document: what ran (model, host, workload, each engine's configuration and
// what its search tried), every figure, and the check against the reference. The JSON report is this
// document; the table and the HTML page are views of it.
import type { GoodputPoint } from '../metrics/goodput.ts';
import type { AblationBar } from './charts.ts';
import type { RequestRecord } from '../metrics/request-log.ts';
import type { UnloadedTtft } from '../metrics/slo.ts';
import type { RunSummary } from '../metrics/summary.ts';
import type { EngineComparison } from '../run/compare.ts';
import { describeSetup } from '../run/engines.ts';
import { type WorkloadSpec, describeWorkload } from '../workload/spec.ts';

export interface ReferenceCheck {
  readonly requests: number;
  /** Request ids whose first token differs from the reference forward's, per engine. */
  readonly mismatches: Readonly<Record<string, readonly number[]>>;
}

export interface EngineReport {
  readonly name: string;
  readonly configuration: string;
  readonly summary: RunSummary;
  /** Per request, in id order: arrival, TTFT, first token, rank. */
  readonly records: readonly RequestRecord[];
  readonly searched: ReadonlyArray<{ readonly configuration: string; readonly ttftP90Ms: number; readonly attainment5: number; readonly tokensPerS: number }>;
  readonly goodput?: { readonly sloScale: number; readonly rate: number; readonly points: readonly GoodputPoint[] };
}

export interface ComparisonReport {
  readonly title: string;
  readonly model: string;
  readonly host: string;
  readonly ranks: number;
  readonly workload: WorkloadSpec & { readonly description: string };
  /** The SLO yardstick: unloaded TTFT of the sync engine (default configuration) of the same size. */
  readonly unloaded: UnloadedTtft;
  readonly engines: readonly EngineReport[];
  /** Engines named for the comparison that createEngine does not provide yet. */
  readonly unavailable: readonly string[];
  readonly reference?: ReferenceCheck;
  /** Goodput of each ablation variant (empty until an engine declares its optimizations). */
  readonly ablation: readonly AblationBar[];
}

export function engineReport(e: EngineComparison): EngineReport {
  return {
    name: e.name,
    configuration: describeSetup(e.best),
    summary: e.result.summary,
    records: e.result.records,
    searched: e.candidates.map((c) => ({
      configuration: describeSetup(c.summary.setup),
      ttftP90Ms: c.summary.ttftMs.p90,
      attainment5: c.summary.attainment['5'],
      tokensPerS: c.summary.tokensPerS,
    })),
    goodput: e.goodput,
  };
}

export function comparisonReport(parts: Omit<ComparisonReport, 'engines' | 'workload'> & { readonly workload: WorkloadSpec; readonly engines: readonly EngineComparison[] }): ComparisonReport {
  return { ...parts, workload: { ...parts.workload, description: describeWorkload(parts.workload) }, engines: parts.engines.map(engineReport) };
}
