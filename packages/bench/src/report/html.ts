// The HTML report: the comparison's figures, its configurations, and the charts as inline SVG.
import { writeFile } from 'node:fs/promises';
import type { EngineComparison } from '../run/compare.ts';
import { ablationBars, attainmentVsRate, goodputBars, rankUtilization, ttftCdf } from './charts.ts';
import { comparisonTable } from './comparison-table.ts';
import type { ComparisonReport } from './comparison.ts';

const escape = (text: string): string => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

export async function reportHtml(report: ComparisonReport, engines: readonly EngineComparison[]): Promise<string> {
  const charts = await Promise.all([ttftCdf(engines), attainmentVsRate(engines), goodputBars(engines), rankUtilization(engines), ablationBars(report.ablation)]);
  const check = report.reference
    ? Object.entries(report.reference.mismatches)
        .map(([name, ids]) => `${name}: ${ids.length === 0 ? `all ${report.reference?.requests} first tokens equal the reference forward's` : `${ids.length} first tokens DIFFER (requests ${ids.join(', ')})`}`)
        .join('<br>')
    : 'not checked';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(report.title)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}pre{background:#f6f6f6;padding:1em;overflow-x:auto}figure{display:inline-block;margin:1em}</style>
</head><body>
<h1>${escape(report.title)}</h1>
<p>Model ${escape(report.model)}; ${report.ranks} ranks on the ${escape(report.host)} host; workload: ${escape(report.workload.description)}.</p>
<p>SLO of a request: sloScale × the unloaded TTFT of a prompt of its length on the sync engine (default configuration) of the same size, measured at ${report.unloaded.lengths.join(', ')} tokens (${report.unloaded.ttftMs.map((t) => t.toFixed(0)).join(', ')} ms) and interpolated.</p>
<h2>Engines and their configurations</h2>
<ul>${report.engines.map((e) => `<li><b>${escape(e.name)}</b>: ${escape(e.configuration)} (best of ${e.searched.length}: ${e.searched.map((s) => escape(s.configuration)).join('; ')})</li>`).join('')}${report.unavailable.map((n) => `<li><b>${escape(n)}</b>: not available yet</li>`).join('')}</ul>
<p>First tokens against the reference forward: ${check}</p>
<h2>Figures</h2>
<pre>${escape(comparisonTable(report))}</pre>
<h2>Charts</h2>
${charts.map((svg) => `<figure>${svg}</figure>`).join('\n')}
</body></html>
`;
}

export async function writeReportHtml(path: string, report: ComparisonReport, engines: readonly EngineComparison[]): Promise<void> {
  await writeFile(path, await reportHtml(report, engines));
}
