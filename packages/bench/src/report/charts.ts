// The report's charts as Vega-Lite specs, rendered to SVG strings in Node (no browser, no canvas).
import { View, parse } from 'vega';
import { type TopLevelSpec, compile } from 'vega-lite';
import type { EngineComparison } from '../run/compare.ts';

type Row = Record<string, string | number>;

const NO_SWEEP = 'not measured in this run (asap sweep searches it)';

async function svg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const base = (title: string, values: Row[]) => ({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width: 420, height: 240, data: { values } }) as const;

export function ttftCdf(engines: readonly EngineComparison[]): Promise<string> {
  const values = engines.flatMap((e) => {
    const ttft = e.result.records.map((r) => r.ttftMs).sort((a, b) => a - b);
    return ttft.map((t, i) => ({ engine: e.name, ttftMs: t, share: (i + 1) / ttft.length }));
  });
  return svg({
    ...base('TTFT CDF', values),
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'ttftMs', type: 'quantitative', title: 'TTFT (ms)', scale: { type: 'log' } },
      y: { field: 'share', type: 'quantitative', title: 'share of requests' },
      color: { field: 'engine', type: 'nominal' },
    },
  } as TopLevelSpec);
}

export function attainmentVsRate(engines: readonly EngineComparison[]): Promise<string> {
  const values = engines.flatMap((e) => (e.goodput?.points ?? []).map((p) => ({ engine: e.name, rate: p.rate, attainment: p.attainment })));
  return svg({
    ...base(engines[0]?.goodput ? `SLO attainment vs rate (sloScale ${engines[0].goodput.sloScale})` : `SLO attainment vs rate: ${NO_SWEEP}`, values),
    layer: [
      { mark: { type: 'line', point: true }, encoding: { x: { field: 'rate', type: 'quantitative', title: 'requests/s' }, y: { field: 'attainment', type: 'quantitative', title: 'attainment', scale: { domain: [0, 1] } }, color: { field: 'engine', type: 'nominal' } } },
      { mark: { type: 'rule', strokeDash: [4, 4] }, data: { values: [{ y: 0.9 }] }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  } as TopLevelSpec);
}

export function goodputBars(engines: readonly EngineComparison[]): Promise<string> {
  const values = engines.flatMap((e) => [
    { engine: e.name, what: 'goodput', rate: e.goodput?.rate ?? 0 },
    { engine: e.name, what: 'ideal bound', rate: e.result.summary.ideal.requestsPerS },
  ]);
  return svg({
    ...base(engines.some((e) => e.goodput) ? 'Goodput and the ideal bound (requests/s)' : `Ideal bound (requests/s); goodput: ${NO_SWEEP}`, values),
    mark: 'bar',
    encoding: {
      x: { field: 'engine', type: 'nominal' },
      xOffset: { field: 'what', type: 'nominal' },
      y: { field: 'rate', type: 'quantitative', title: 'requests/s' },
      color: { field: 'what', type: 'nominal' },
    },
  } as TopLevelSpec);
}

const TIME_KINDS = ['compute', 'busy outside kernels', 'barrier-wait', 'queue-wait', 'idle'];

export function rankUtilization(engines: readonly EngineComparison[]): Promise<string> {
  const values = engines.flatMap((e) =>
    e.result.summary.ranks.flatMap((r) => {
      const window = e.result.summary.elapsedMs || 1;
      const busyOther = Math.max(0, window - r.computeMs - r.barrierWaitMs - r.queueWaitMs - r.idleMs);
      const shares = [r.computeMs, busyOther, r.barrierWaitMs, r.queueWaitMs, r.idleMs];
      return TIME_KINDS.map((kind, order) => ({ rank: `${e.name} ${r.rank}`, kind, order, share: shares[order] / window }));
    }),
  );
  return svg({
    ...base('Per-rank time', values),
    mark: 'bar',
    encoding: {
      y: { field: 'rank', type: 'nominal', title: null },
      x: { field: 'share', type: 'quantitative', title: 'share of the run', stack: 'zero' },
      color: { field: 'kind', type: 'nominal', scale: { domain: TIME_KINDS }, sort: TIME_KINDS },
      order: { field: 'order', type: 'quantitative' },
    },
  } as TopLevelSpec);
}

export interface AblationBar {
  readonly variant: string;
  readonly goodput: number;
}

/** ASAP's optimizations switched off one at a time (empty until that engine reports its ablation). */
export function ablationBars(bars: readonly AblationBar[]): Promise<string> {
  return svg({
    ...base(bars.length ? 'Ablation: goodput with each optimization off' : 'Ablation (no data: the asap engine is not available yet)', bars.map((b) => ({ ...b }))),
    mark: 'bar',
    encoding: { x: { field: 'variant', type: 'nominal', title: null }, y: { field: 'goodput', type: 'quantitative', title: 'requests/s' } },
  } as TopLevelSpec);
}
