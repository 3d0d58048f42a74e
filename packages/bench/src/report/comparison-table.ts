// The comparison on the terminal: one row per engine, then each engine's configuration and ranks.
import { formatNumber, formatTable } from './table.ts';
import type { ComparisonReport } from './comparison.ts';

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

export function comparisonTable(report: ComparisonReport): string {
  const rows = report.engines.map((e) => {
    const s = e.summary;
    return [
      e.name,
      formatNumber(s.ttftMs.p50, 0),
      formatNumber(s.ttftMs.p90, 0),
      formatNumber(s.ttftMs.p99, 0),
      pct(s.attainment['2']),
      pct(s.attainment['5']),
      pct(s.attainment['10']),
      formatNumber(s.tokensPerS, 0),
      formatNumber(s.sloTokensPerS['5'], 0),
      formatNumber(s.ideal.tokensPerS, 0),
      e.goodput ? formatNumber(e.goodput.rate, 2) : 'n/a',
      pct(s.ranks.reduce((n, r) => n + r.utilization, 0) / Math.max(1, s.ranks.length)),
    ];
  });
  const lines = [
    formatTable(['engine', 'TTFT p50 ms', 'p90', 'p99', 'SLO×2', 'SLO×5', 'SLO×10', 'tokens/s', 'in-SLO×5 tok/s', 'ideal tok/s', 'goodput req/s', 'utilization'], rows),
    '',
  ];
  for (const e of report.engines) {
    lines.push(`${e.name}: ${e.configuration}, best of ${e.searched.length} searched`);
    lines.push(
      formatTable(
        ['rank', 'tokens', 'compute ms', 'barrier-wait ms', 'queue-wait ms', 'idle ms', 'utilization', 'kernel share'],
        e.summary.ranks.map((r) => [r.rank, String(r.tokens), formatNumber(r.computeMs, 0), formatNumber(r.barrierWaitMs, 0), formatNumber(r.queueWaitMs, 0), formatNumber(r.idleMs, 0), pct(r.utilization), pct(r.kernelShare)]),
      ).replace(/^/gm, '  '),
    );
  }
  for (const name of report.unavailable) lines.push(`${name}: not available yet (createEngine does not provide it); not compared`);
  return lines.join('\n');
}
