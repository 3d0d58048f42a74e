// asap calibrate: this machine as a hardware profile (`local`), for the sim host to predict the threads host.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { availableBackends, type BackendName, defaultBackend } from '@asap/runtime';
import { calibrate } from '../calibrate/calibrate.ts';
import { localProfilePath } from '../calibrate/local-profile.ts';
import { WAKE_PROMPT_TOKENS } from '../calibrate/wake-cost.ts';
import { formatNumber, formatTable } from '../report/table.ts';
import { helpOrDuplicates } from './args.ts';
import { defaultModelDir } from './default-model.ts';
import { oneOf, userPath } from './options.ts';

const USAGE = `usage: asap calibrate [--out FILE] [--backend B] [--quick] [--json]
  Times the rank ops of the default model on the default backend (or B), a large matmul, a copy and the
  channels, fits each op kind's roofline, the threads host's costs around the kernels and what a pause costs
  (engine runs on both hosts, end to end), and writes the profile as JSON (default ${localProfilePath()},
  which \`--profile local\` reads). --json prints the profile too.`;

export async function run(args: string[]): Promise<void> {
  if (helpOrDuplicates(args, USAGE)) return;
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, backend: { type: 'string' }, quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
  const backend = oneOf<BackendName>('backend', values.backend, availableBackends(), defaultBackend());
  const out = values.out === undefined ? localProfilePath() : userPath(values.out);
  const { profile, fits, host, loaded, wake } = await calibrate(backend, await defaultModelDir(), values.quick);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(profile, null, 2)}\n`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(profile)}\n`);
    return;
  }
  const d = profile.device;
  const rows = fits.map((f) => [
    f.op,
    Number.isFinite(f.flopsPerS) ? formatNumber(f.flopsPerS / 1e9, 1) : '-',
    Number.isFinite(f.bytesPerS) ? formatNumber(f.bytesPerS / 1e9, 1) : '-',
    f.contextFlopsPerS !== undefined && Number.isFinite(f.contextFlopsPerS) ? formatNumber(f.contextFlopsPerS / 1e9, 1) : '-',
    formatNumber(f.overheadUs, 0),
    `${formatNumber(100 * (Math.exp(f.rmsLogError) - 1), 0)}%`,
  ]);
  process.stdout.write(
    [
      `${profile.models}`,
      `peak matmul ${formatNumber(d.peakFlopsPerS / 1e9, 1)} GFLOP/s, copy traffic ${formatNumber(d.memoryBytesPerS / 1e9, 1)} GB/s`,
      `link: ${formatNumber(profile.link.latencyUs, 1)} µs one way, ${formatNumber(profile.link.bytesPerS / 1e9, 2)} GB/s`,
      `threads host: kernels ${formatNumber(host.kernelScale, 2)}× their time alone, plus ${formatNumber(host.perOpUs, 0)} µs per device op, messages ${formatNumber(host.latencyUs, 0)} µs one way, fitted end to end (lone-request TTFT, threads → sim: ${host.points.map((p) => `${p.config} ${p.tokens} tokens ${formatNumber(p.measuredMs, 1)} → ${formatNumber(p.fittedMs, 1)} ms`).join('; ')})`,
      `after a pause: each op ${formatNumber(wake.wake.us / 1000, 2)} ms × (1 − e^(−idle / ${formatNumber(wake.wake.tauMs, 0)} ms)) more, fitted end to end (a ${WAKE_PROMPT_TOKENS}-token prompt after idle gaps, threads → sim: ${wake.points.map((p) => `${p.config} ${p.gapMs} ms ${formatNumber(p.measuredMs, 1)} → ${formatNumber(p.fittedMs, 1)}`).join('; ')})`,
      `under load (Poisson requests, ranks computing at once): kernels ${formatNumber(loaded.kernelScale, 2)}× their time alone, fitted end to end (TTFT p50/p90, threads → sim: ${loaded.runs.map((r) => `${r.config} ${r.measured.map((v) => formatNumber(v, 1)).join('/')} → ${r.fitted.map((v) => formatNumber(v, 1)).join('/')} ms`).join('; ')}); the profile uses this factor`,
      '',
      formatTable(['op', 'GFLOP/s', 'GB/s', 'context GFLOP/s', 'kernel overhead µs', 'fit error (rms)'], rows),
      '',
      `wrote ${out}`,
    ].join('\n') + '\n',
  );
}
