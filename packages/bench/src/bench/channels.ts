// `asap bench channels`: round-trip latency of a small message and bandwidth of 1, 4 and 16 MiB of rows,
// over a channel (shared ring) vs plain postMessage (structured clone), and a one-thread TypedArray.set copy
// as the memory-speed reference. Figures are tinybench medians. `--json` prints one JSON object.
// The `channel N MiB` rows lease (`channelGBps*`): the receiver reads the rows in place in the ring and
// releases each message once it has read it, so a message costs the sender's one copy. The copying receivers
// are reported too: into an arena (`channelCopyGBps*`) or into fresh shared memory (the receiver's default:
// `channelFreshGBps*`; every new buffer's pages are faulted in on first touch, which costs more than the copy).
import { Worker } from 'node:worker_threads';
import { type ChannelMessage, type ChannelSender, Tensor, createRing, ringReceiver, ringSender } from '@asap/runtime';
import { Bench } from 'tinybench';
import { formatNumber, formatTable } from '../report/table.ts';
import type { EchoTask, PortMessage } from './channels-worker.ts';
import { helpOrDuplicates } from '../cli/args.ts';

const MiB = 1024 * 1024;
const SIZES_MIB = [1, 4, 16] as const;
/** Messages streamed per bandwidth sample: enough for the sender's and receiver's copies to overlap. */
const STREAM_BYTES = 32 * MiB;
/** The ring holds two of the largest messages, so the sender writes one while the receiver reads another. */
const RING_BYTES = 2 * 16 * MiB + 64 * 1024;
/** Small message of the round trip: a header and one 16-value row. */
const PING_ROW = 16;

interface Options {
  readonly json: boolean;
  readonly timeMs: number;
}

const USAGE = 'usage: asap bench channels [--json] [--time MS (per task, default 500)]';

function parse(args: string[]): Options {
  let json = false;
  let timeMs = 500;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--json') json = true;
    else if (args[i] === '--time' && Number(args[i + 1]) > 0) timeMs = Number(args[++i]);
    else throw new Error(`bench channels: unknown option ${args[i]}\n${USAGE}`);
  }
  return { json, timeMs };
}

/** The main thread's end of a worker that echoes pings and acks bulk messages, one reply per request. */
interface Peer {
  /** Requests sent so far. */
  requests: number;
  /** Resolves once `count` replies have arrived in total. */
  until(count: number): Promise<void>;
  close(): Promise<void>;
}

function spawn(task: EchoTask): Worker {
  const worker = new Worker(new URL('./channels-worker.cjs', import.meta.url), { workerData: task });
  worker.on('error', (error) => process.stderr.write(`bench channels: worker failed: ${error.message}\n`));
  return worker;
}

/** Counts replies and wakes the one waiter once the count it waits for is reached. */
class Replies {
  private count = 0;
  private target = Infinity;
  private wake: (() => void) | undefined;

  arrived(): void {
    if (++this.count >= this.target && this.wake) {
      const wake = this.wake;
      this.wake = undefined;
      this.target = Infinity;
      wake();
    }
  }

  until(count: number): Promise<void> {
    if (this.count >= count) return Promise.resolve();
    this.target = count;
    return new Promise<void>((resolve) => (this.wake = resolve));
  }
}

interface RingPeer extends Peer {
  readonly sender: ChannelSender;
}

function ringPeer(receive: { readonly arenaBytes?: number; readonly lease?: boolean }): RingPeer {
  const request = createRing('bench-request', RING_BYTES);
  const reply = createRing('bench-reply', 64 * 1024);
  const worker = spawn({ via: 'ring', request, reply, ...receive });
  const sender = ringSender(request);
  const receiver = ringReceiver(reply);
  const replies = new Replies();
  receiver.inbox$.subscribe(() => replies.arrived());
  return {
    requests: 0,
    sender,
    until: (count) => replies.until(count),
    async close() {
      sender.close();
      receiver.close();
      await worker.terminate();
    },
  };
}

interface PortPeer extends Peer {
  post(message: PortMessage): void;
}

function portPeer(): PortPeer {
  const worker = spawn({ via: 'port' });
  const replies = new Replies();
  worker.on('message', () => replies.arrived());
  return {
    requests: 0,
    post: (message) => worker.postMessage(message),
    until: (count) => replies.until(count),
    async close() {
      await worker.terminate();
    },
  };
}

async function send(sender: ChannelSender, message: ChannelMessage): Promise<void> {
  if (!sender.trySend(message)) await sender.send(message);
}

export interface ChannelFigures {
  channelRoundTripUs: number;
  postMessageRoundTripUs: number;
  [key: string]: number;
}

function medianMs(bench: Bench, name: string): number {
  const task = bench.getTask(name);
  const result = task?.result;
  if (!result || !('latency' in result)) {
    const error = result && 'error' in result ? `: ${result.error.message}` : '';
    throw new Error(`bench channels: task "${name}" did not complete${error}`);
  }
  return result.latency.p50;
}

/** Every figure of the bench: tinybench medians, `timeMs` per task. */
export async function measureChannels(timeMs: number): Promise<ChannelFigures> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs), iterations: 10, throws: true });
  const fresh = ringPeer({});
  const arena = ringPeer({ arenaBytes: 3 * 16 * MiB });
  const lease = ringPeer({ lease: true });
  const port = portPeer();
  try {
    const ping = Tensor.zeros([1, PING_ROW]);
    let seq = 0;
    bench.add('channel round trip', async () => {
      await send(arena.sender, { kind: 'ping', meta: seq++, tensors: [ping] });
      await arena.until(++arena.requests);
    });
    const pingData = new Float32Array(PING_ROW);
    bench.add('postMessage round trip', async () => {
      port.post({ kind: 'ping', seq: seq++, data: pingData });
      await port.until(++port.requests);
    });
    for (const mib of SIZES_MIB) {
      const bytes = mib * MiB;
      const count = Math.max(2, STREAM_BYTES / bytes);
      const rows = Tensor.zeros([bytes / 4096, 1024]);
      rows.toF32().fill(1.5);
      for (const [name, peer] of [
        [`channel ${mib} MiB`, lease],
        [`channel copy ${mib} MiB`, arena],
        [`channel fresh ${mib} MiB`, fresh],
      ] as const) {
        // Streaming: each sample sends `count` messages and waits for the acks of the previous sample's, so
        // the pipeline stays full and a sample measures steady throughput, not a start-up and a drain.
        bench.add(name, async () => {
          const previous = peer.requests;
          for (let i = 0; i < count; i++) await send(peer.sender, { kind: 'bulk', meta: i, tensors: [rows] });
          peer.requests += count;
          await peer.until(previous);
        });
      }
      const plain = new Float32Array(bytes / 4).fill(1.5);
      bench.add(`postMessage ${mib} MiB`, async () => {
        const previous = port.requests;
        for (let i = 0; i < count; i++) port.post({ kind: 'bulk', seq: i, data: plain });
        port.requests += count;
        await port.until(previous);
      });
      const target = new Uint8Array(new SharedArrayBuffer(bytes));
      const source = new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);
      bench.add(`memcpy ${mib} MiB`, () => {
        target.set(source);
      });
    }
    await bench.run();

    const figures: ChannelFigures = {
      channelRoundTripUs: medianMs(bench, 'channel round trip') * 1000,
      postMessageRoundTripUs: medianMs(bench, 'postMessage round trip') * 1000,
    };
    for (const mib of SIZES_MIB) {
      const bytes = mib * MiB;
      const count = Math.max(2, STREAM_BYTES / bytes);
      const gbps = (name: string, n: number): number => (n * bytes) / 1e9 / (medianMs(bench, name) / 1000);
      figures[`channelGBps${mib}MiB`] = gbps(`channel ${mib} MiB`, count);
      figures[`channelCopyGBps${mib}MiB`] = gbps(`channel copy ${mib} MiB`, count);
      figures[`channelFreshGBps${mib}MiB`] = gbps(`channel fresh ${mib} MiB`, count);
      figures[`postMessageGBps${mib}MiB`] = gbps(`postMessage ${mib} MiB`, count);
      figures[`memcpyGBps${mib}MiB`] = gbps(`memcpy ${mib} MiB`, 1);
    }
    return figures;
  } finally {
    await Promise.all([fresh.close(), arena.close(), lease.close(), port.close()]);
  }
}

export async function run(args: string[]): Promise<void> {
  if (helpOrDuplicates(args, USAGE)) return;
  const options = parse(args);
  const figures = await measureChannels(options.timeMs);
  process.stdout.write(`${options.json ? JSON.stringify(figures) : report(figures)}\n`);
}

function report(f: ChannelFigures): string {
  const latency = formatTable(
    ['round trip (small message)', 'median µs', 'vs postMessage'],
    [
      ['channel (shared ring)', formatNumber(f.channelRoundTripUs, 1), `${formatNumber(f.channelRoundTripUs / f.postMessageRoundTripUs, 2)}×`],
      ['postMessage', formatNumber(f.postMessageRoundTripUs, 1), '1.00×'],
    ],
  );
  const rows = SIZES_MIB.map((mib) => {
    const memcpy = f[`memcpyGBps${mib}MiB`];
    const share = (v: number): string => `${formatNumber((100 * v) / memcpy, 0)}%`;
    return [
      `${mib} MiB`,
      formatNumber(f[`channelGBps${mib}MiB`], 2),
      share(f[`channelGBps${mib}MiB`]),
      formatNumber(f[`channelCopyGBps${mib}MiB`], 2),
      share(f[`channelCopyGBps${mib}MiB`]),
      formatNumber(f[`channelFreshGBps${mib}MiB`], 2),
      formatNumber(f[`postMessageGBps${mib}MiB`], 2),
      formatNumber(memcpy, 2),
    ];
  });
  const bandwidth = formatTable(
    [
      'rows per message',
      'channel lease GB/s',
      'of memcpy',
      'channel→arena GB/s',
      'of memcpy',
      'channel→fresh GB/s',
      'postMessage GB/s',
      'memcpy GB/s',
    ],
    rows,
  );
  const targets = [
    `target: channel round trip ≤ 50% of postMessage's: ${formatNumber((100 * f.channelRoundTripUs) / f.postMessageRoundTripUs, 0)}%`,
    `target: channel 4 MiB (lease) ≥ 50% of memcpy: ${formatNumber((100 * f.channelGBps4MiB) / f.memcpyGBps4MiB, 0)}%`,
  ];
  return [latency, '', bandwidth, '', ...targets].join('\n');
}
