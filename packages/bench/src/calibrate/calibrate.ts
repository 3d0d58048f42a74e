// This machine as a hardware profile: peak matmul FLOP/s and copy bandwidth as the reference, each rank op
// kind's achieved rates and fixed cost fitted from timings of the real ops, the channel's latency and
// bandwidth as the link.
import { readModelConfig } from '@asap/actors';
import { type BackendName, type HardwareProfile, type OpEfficiency, createBackend } from '@asap/runtime';
import { latencyMs, random } from '../bench/kernels.ts';
import { type ChannelFigures, measureChannels } from '../bench/channels.ts';
import { type OpFit, fitOp } from './fit.ts';
import { type HostOverhead, fitHostOverhead, measureLoneTtfts, withKernelScale, withLinkLatency, withOverhead } from './host-overhead.ts';
import { type LoadedScale, fitLoadedScale } from './loaded-scale.ts';
import { type WakeFit, fitWake, withWake } from './wake-cost.ts';
import { type OpPoint, timeRankOps } from './op-timings.ts';

/** The op names the ranks give their device ops (`expert` is charged as `experts`, one expert per batch). */
const OPS = ['attention', 'experts', 'combine', 'embed', 'lm-head'] as const;
/** A large square-ish matmul: the backend's best FLOP/s, the reference the efficiencies are fractions of. */
const PEAK_SHAPE = { m: 512, k: 1024, n: 2048 };

export interface Calibration {
  readonly profile: HardwareProfile;
  readonly points: readonly OpPoint[];
  readonly fits: readonly OpFit[];
  readonly channels: ChannelFigures;
  readonly host: HostOverhead;
  readonly loaded: LoadedScale;
  readonly wake: WakeFit;
}

export async function peakFlopsPerS(backendName: BackendName, quick: boolean): Promise<number> {
  const backend = await createBackend(backendName);
  try {
    const { m, k, n } = PEAK_SHAPE;
    const x = backend.resident(random([m, k], 1));
    const w = backend.resident(random([n, k], 2));
    const { best } = await latencyMs(() => backend.matmul(x, w), { quick }, false);
    return (2 * m * k * n) / (best / 1e3);
  } finally {
    backend.dispose();
  }
}

function efficiency(fit: OpFit, peakFlops: number, peakBytes: number): OpEfficiency {
  return {
    ...(Number.isFinite(fit.flopsPerS) && { compute: fit.flopsPerS / peakFlops }),
    ...(Number.isFinite(fit.bytesPerS) && { memory: fit.bytesPerS / peakBytes }),
    ...(fit.contextFlopsPerS !== undefined && Number.isFinite(fit.contextFlopsPerS) && { context: fit.contextFlopsPerS / peakFlops }),
    overheadUs: fit.overheadUs,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function calibrate(backendName: BackendName, modelDir: string, quick: boolean): Promise<Calibration> {
  const peakFlops = await peakFlopsPerS(backendName, quick);
  const channels = await measureChannels(quick ? 100 : 300);
  // A copy reads and writes each byte: the memory traffic is twice the bytes copied.
  const peakBytes = 2 * Math.max(channels.memcpyGBps1MiB, channels.memcpyGBps4MiB, channels.memcpyGBps16MiB) * 1e9;
  const points = await timeRankOps(backendName, modelDir, quick);
  const fits = OPS.map((op) => fitOp(op, points));
  const ops = Object.fromEntries(fits.map((f) => [f.op, efficiency(f, peakFlops, peakBytes)]));
  const experts = ops.experts;
  const kernels: HardwareProfile = {
    name: 'local',
    models: `this machine: one core per rank, the ${backendName} backend, worker threads joined by shared-memory rings`,
    device: {
      peakFlopsPerS: peakFlops,
      memoryBytesPerS: peakBytes,
      computeEfficiency: experts.compute ?? 1,
      memoryEfficiency: 1,
      overheadUs: median(fits.map((f) => f.overheadUs)),
      ops: { ...ops, expert: experts },
    },
    link: {
      // Half a small message's round trip (send, the receiver's wake-up, its reply); the end-to-end fit below replaces it.
      latencyUs: channels.channelRoundTripUs / 2,
      // 4 MiB messages copied into the receiver's arena, as ranks receive rows.
      bytesPerS: channels.channelCopyGBps4MiB * 1e9,
      efficiency: 1,
    },
  };
  // The threads host's cost besides kernels, fitted from engine runs, becomes part of each op's fixed cost.
  const config = await readModelConfig(modelDir);
  const lone = await measureLoneTtfts(modelDir, config.vocabSize, quick);
  const withHost = (profile: HardwareProfile, h: HostOverhead, k = h.kernelScale): HardwareProfile =>
    withLinkLatency(withOverhead(withKernelScale(profile, k), h.perOpUs), h.latencyUs);
  // Lone requests run back to back: the wake cost is fitted on gaps with the rest as they fitted, then the
  // rest refitted with it (their requests pay it too, a little, on the short waits between a rank's ops).
  const firstHost = await fitHostOverhead(kernels, modelDir, config.vocabSize, lone);
  const wake = await fitWake(withHost(kernels, firstHost), modelDir, config.vocabSize, quick);
  const woken = withWake(kernels, wake.wake);
  const host = await fitHostOverhead(woken, modelDir, config.vocabSize, lone);
  const build = (k: number): HardwareProfile => withHost(woken, host, k);
  // Under load the ranks share the cores: the kernel-time factor is refitted there.
  const loaded = await fitLoadedScale(build, host.kernelScale / 2, host.kernelScale * 4, modelDir, config.vocabSize, config.maxPositionEmbeddings, quick);
  const profile: HardwareProfile = {
    ...build(loaded.kernelScale),
    measured: { backend: backendName, model: modelDir, peakMatmul: PEAK_SHAPE, peakFlopsPerS: peakFlops, channels, fits, points, host, wake, loaded },
  };
  return { profile, points, fits, channels, host, loaded, wake };
}
