// The fidelity check as a page: measured (threads host) vs predicted (sim host) TTFT per configuration.
import type { FidelityResult } from '../fidelity/fidelity.ts';

const escape = (text: string): string => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

export interface FidelityReport {
  readonly workload: string;
  readonly profile: string;
  readonly repeats: number;
  readonly results: readonly FidelityResult[];
  /** How the machine's speed moved since calibration, in words (empty when unknown). */
  readonly drift?: string;
}

/** One table: a row per configuration and percentile, the error colored where it exceeds 15%. */
export function fidelitySection(report: FidelityReport): string {
  const rows = report.results.flatMap((r) =>
    (['p50', 'p90'] as const).map((q) => {
      const error = r.error[q];
      const runs = r.measuredRuns.map((m) => m[q].toFixed(1)).join(', ');
      return `<tr><td>${escape(r.config)}</td><td>${q}</td><td>${r.measured[q].toFixed(1)} (${runs})</td><td>${r.predicted[q].toFixed(1)}</td><td style="color:${Math.abs(error) <= 0.15 ? 'green' : 'red'}">${(100 * error).toFixed(1)}%</td></tr>`;
    }),
  );
  return `<h2>Sim fidelity: threads host measured vs sim host predicted (${escape(report.profile)} profile)</h2>
<p>Workload: ${escape(report.workload)}; ${report.repeats} threads-host runs per configuration (median shown, each run in brackets); target: within 15%.${report.drift ? ` The machine is shared: ${escape(report.drift)}.` : ''}</p>
<table border="1" cellpadding="4" cellspacing="0"><tr><th>configuration</th><th>TTFT</th><th>measured ms</th><th>predicted ms</th><th>error</th></tr>
${rows.join('\n')}
</table>`;
}

export function fidelityHtml(report: FidelityReport): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>asap sim fidelity</title>
<style>body{font:14px system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}</style>
</head><body>
${fidelitySection(report)}
</body></html>
`;
}
