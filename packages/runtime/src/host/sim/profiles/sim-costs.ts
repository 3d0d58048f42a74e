import type { DeviceOp } from '../../../actor/context.ts';
import { type DeviceCost, type OpRates, rooflineMs } from '../device.ts';
import type { LinkProfile } from '../link.ts';
import type { HardwareProfile } from './hardware-profile.ts';

/**
 * The sim host's costs for a profile. An op costs its fixed overhead plus the longer of its compute time and
 * its memory time (a roofline), each at the achievable fraction of the device's peak for that op kind:
 * `overhead + max(flops / (peak × computeEff), bytes / (bandwidth × memoryEff))` (an op's context FLOPs at
 * their own efficiency where the profile gives one), plus the wake cost when the
 * machine sat idle before it (see `WakeCost`). A message costs the link's latency plus its bytes at the link's
 * achievable bandwidth.
 */
export function simCosts(profile: HardwareProfile): { deviceCost: DeviceCost; link: LinkProfile } {
  const d = profile.device;
  const rates = (name: string): OpRates => {
    const o = d.ops?.[name];
    return {
      flopsPerMs: (d.peakFlopsPerS * (o?.compute ?? d.computeEfficiency)) / 1e3,
      contextFlopsPerMs: o?.context === undefined ? undefined : (d.peakFlopsPerS * o.context) / 1e3,
      bytesPerMs: (d.memoryBytesPerS * (o?.memory ?? d.memoryEfficiency)) / 1e3,
      overheadMs: (o?.overheadUs ?? d.overheadUs) / 1e3,
    };
  };
  const byName = new Map<string, OpRates>();
  const wakeMs = (d.wake?.us ?? 0) / 1e3;
  const tauMs = d.wake?.tauMs ?? 1;
  const deviceCost: DeviceCost = (op: DeviceOp, _actor, idleMs = 0) => {
    let r = byName.get(op.name);
    if (!r) byName.set(op.name, (r = rates(op.name)));
    const wake = wakeMs > 0 && idleMs > 0 ? wakeMs * -Math.expm1(-idleMs / tauMs) : 0;
    return wake + rooflineMs(op, r);
  };
  const link: LinkProfile = { latencyMs: profile.link.latencyUs / 1e3, gbps: (profile.link.bytesPerS * profile.link.efficiency) / 1e9 };
  return { deviceCost, link };
}
