// The `asap` command line. Each command lives in its own module and exports `run(args)`.

interface Command {
  readonly summary: string;
  readonly load: () => Promise<{ run(args: string[]): Promise<void> }>;
}

const commands: Record<string, Command> = {
  demo: { summary: 'run the main job on the embedded default model', load: () => import('./demo.ts') },
  'bench channels': { summary: 'channel latency and bandwidth vs postMessage', load: () => import('../bench/channels.ts') },
  run: { summary: 'one engine over one workload: TTFT, SLO attainment, throughput', load: () => import('./run.ts') },
  sweep: { summary: 'goodput search of every engine, each at its best configuration', load: () => import('./sweep.ts') },
  sim: { summary: 'a modelled cluster (cm384/h200 profile, DeepSeek-V3 shapes) on the sim host: one run, or --sweep', load: () => import('./sim.ts') },
  'bench engines': { summary: 'throughput and short-request TTFT: reference vs sync vs asap', load: () => import('../bench/engines.ts') },
  'bench kernels': { summary: 'matmul and attention throughput per backend', load: () => import('../bench/kernels.ts') },
  'bench sim': { summary: 'sim host speed as the actor count grows (4 to 384 actors)', load: () => import('../bench/sim-host.ts') },
  'bench workers': { summary: 'threads host: time to start and stop its workers', load: () => import('../bench/workers.ts') },
  'bench prefill': { summary: 'reference forward prefill tokens/s per backend (128, 512, 2048 tokens)', load: () => import('../bench/prefill.ts') },
  'bench prefill-ops': { summary: 'reference prefill of the default model, time per op', load: () => import('../bench/prefill-ops.ts') },
  calibrate: { summary: 'this machine as a hardware profile (`local`) for the sim host', load: () => import('./calibrate.ts') },
  fidelity: { summary: 'sim host (local profile) vs threads host: measured and predicted TTFT side by side', load: () => import('./fidelity.ts') },
  'gen-model': { summary: 'write a deterministic tiny checkpoint', load: () => import('./gen-model.ts') },
  prefill: { summary: 'prefill one prompt and print the first token', load: () => import('./prefill.ts') },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  asap ${name.padEnd(width)}  ${c.summary}`);
  return ['usage:', ...lines].join('\n');
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${usage()}\n  asap COMMAND --help   a command's options\n`);
    return;
  }
  const two = argv.slice(0, 2).join(' ');
  const name = commands[two] ? two : argv[0];
  const command = name ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(`${name ? `asap: unknown command "${argv.join(' ')}"\n` : ''}${usage()}\n`);
    process.exitCode = 2;
    return;
  }
  const rest = argv.slice(name.split(' ').length);
  const module = await command.load();
  await module.run(rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`asap: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
