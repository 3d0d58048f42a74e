// `asap bench sim`: the sim host's speed as the actor count grows — the same 19,200 messages (each with one
// device op) among 4 to 384 actors. Work per message must not grow with the number of actors. By default every
// actor starts a chain of messages, so more actors also means more messages in flight; `--chains N` starts N
// chains whatever the actor count, which separates the two. Events are
// the virtual clock's (a device op's end, a message's arrival, …); CPU time (this process, all threads) is
// printed beside wall time because a shared machine's wall time says little about the simulator.
import { parseArgs } from 'node:util';
import { startSimHost } from '@asap/runtime';
import { helpOrDuplicates } from '../cli/args.ts';
import { positiveInteger } from '../cli/options.ts';
import { formatTable } from '../report/table.ts';

const RELAY = new URL('./relay-actor.ts', import.meta.url);
const USAGE = 'usage: asap bench sim [--actors 4,96,384] [--messages 19200] [--chains N] [--json]';

interface Row {
  readonly actors: number;
  /** Chains of messages in flight at once (actors that got a first message). */
  readonly chains: number;
  readonly messages: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly messagesPerS: number;
  readonly events: number;
  readonly eventsPerS: number;
  /** Events per second of this process's CPU time. */
  readonly eventsPerCpuS: number;
}

function counts(flag: string, text: string): number[] {
  return text.split(',').map((t) => {
    const n = Number(t);
    if (!Number.isInteger(n) || n < 2) throw new Error(`--${flag} must list integers >= 2, got "${text}"\n${USAGE}`);
    return n;
  });
}

function perSecond(rate: number): string {
  return Math.round(rate).toLocaleString('en-US');
}

/** `chains` undefined: every actor starts one. */
async function measure(actors: number, messages: number, chainsWanted: number | undefined): Promise<Row> {
  const chains = Math.min(actors, chainsWanted ?? actors);
  const hops = Math.max(1, Math.round(messages / chains));
  const host = await startSimHost({
    actors: Array.from({ length: actors }, (_, i) => ({ id: `relay-${i}`, module: RELAY, config: { hops } })),
    recordEvents: false,
  });
  try {
    const start = performance.now();
    const cpu = process.cpuUsage();
    for (const id of host.actors.slice(0, chains)) await host.send(id, { kind: 'go' });
    await host.idle();
    const wallMs = performance.now() - start;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    const events = host.eventsRun;
    return {
      actors,
      chains,
      messages: chains * hops,
      wallMs,
      cpuMs,
      messagesPerS: (chains * hops * 1000) / wallMs,
      events,
      eventsPerS: (events * 1000) / wallMs,
      eventsPerCpuS: (events * 1000) / cpuMs,
    };
  } finally {
    await host.shutdown();
  }
}

export async function run(args: string[]): Promise<void> {
  if (helpOrDuplicates(args, USAGE)) return;
  const { values } = parseArgs({ args, options: { actors: { type: 'string' }, messages: { type: 'string' }, chains: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const json = values.json;
  const actorCounts = counts('actors', values.actors ?? '4,96,384');
  const messages = Number(values.messages ?? 19_200);
  if (!Number.isInteger(messages) || messages < 1) throw new Error(`--messages must be a positive integer\n${USAGE}`);
  const chains = values.chains === undefined ? undefined : positiveInteger('chains', values.chains, 1);
  // One untimed run first, so the first row does not pay for compiling the simulator's code.
  await measure(actorCounts[0], Math.min(messages, 19_200), chains);
  const rows: Row[] = [];
  for (const n of actorCounts) rows.push(await measure(n, messages, chains));
  if (json) {
    process.stdout.write(`${JSON.stringify({ sim: rows })}\n`);
    return;
  }
  process.stdout.write(
    `${formatTable(
      ['actors', 'chains', 'messages', 'wall ms', 'cpu ms', 'messages/s', 'events', 'events/s', 'events/cpu-s'],
      rows.map((r) => [
        String(r.actors),
        String(r.chains),
        String(r.messages),
        r.wallMs.toFixed(0),
        r.cpuMs.toFixed(0),
        perSecond(r.messagesPerS),
        String(r.events),
        perSecond(r.eventsPerS),
        perSecond(r.eventsPerCpuS),
      ]),
    )}\n`,
  );
}
