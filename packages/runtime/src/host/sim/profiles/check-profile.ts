// A hardware profile read from JSON: every field checked, an error names the file and the field.
import type { DeviceHardware, HardwareProfile, LinkHardware, OpEfficiency, WakeCost } from './hardware-profile.ts';

export class HardwareProfileError extends Error {
  constructor(where: string, problem: string) {
    super(`hardware profile ${where}: ${problem}`);
    this.name = 'HardwareProfileError';
  }
}

type Json = Readonly<Record<string, unknown>>;

function record(value: unknown, field: string, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HardwareProfileError(where, `${field} must be an object, got ${JSON.stringify(value)}`);
  }
  return value as Json;
}

function noOthers(value: Json, allowed: readonly string[], field: string, where: string): void {
  const extra = Object.keys(value).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw new HardwareProfileError(where, `${field} has unknown field${extra.length > 1 ? 's' : ''} ${extra.join(', ')} (known: ${allowed.join(', ')})`);
}

function number(value: unknown, field: string, where: string, min: 'positive' | 'non-negative'): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (min === 'positive' ? value > 0 : value >= 0);
  if (!ok) throw new HardwareProfileError(where, `${field} must be a ${min} number, got ${JSON.stringify(value)}`);
  return value as number;
}

function text(value: unknown, field: string, where: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new HardwareProfileError(where, `${field} must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

function opEfficiency(value: unknown, field: string, where: string): OpEfficiency {
  const o = record(value, field, where);
  noOthers(o, ['compute', 'memory', 'context', 'overheadUs'], field, where);
  return {
    ...(o.compute !== undefined && { compute: number(o.compute, `${field}.compute`, where, 'positive') }),
    ...(o.memory !== undefined && { memory: number(o.memory, `${field}.memory`, where, 'positive') }),
    ...(o.context !== undefined && { context: number(o.context, `${field}.context`, where, 'positive') }),
    ...(o.overheadUs !== undefined && { overheadUs: number(o.overheadUs, `${field}.overheadUs`, where, 'non-negative') }),
  };
}

function wake(value: unknown, where: string): WakeCost {
  const w = record(value, 'device.wake', where);
  noOthers(w, ['us', 'tauMs'], 'device.wake', where);
  return { us: number(w.us, 'device.wake.us', where, 'non-negative'), tauMs: number(w.tauMs, 'device.wake.tauMs', where, 'positive') };
}

function device(value: unknown, where: string): DeviceHardware {
  const d = record(value, 'device', where);
  noOthers(d, ['peakFlopsPerS', 'memoryBytesPerS', 'computeEfficiency', 'memoryEfficiency', 'overheadUs', 'ops', 'wake'], 'device', where);
  const ops = d.ops === undefined ? undefined : record(d.ops, 'device.ops', where);
  return {
    peakFlopsPerS: number(d.peakFlopsPerS, 'device.peakFlopsPerS', where, 'positive'),
    memoryBytesPerS: number(d.memoryBytesPerS, 'device.memoryBytesPerS', where, 'positive'),
    computeEfficiency: number(d.computeEfficiency, 'device.computeEfficiency', where, 'positive'),
    memoryEfficiency: number(d.memoryEfficiency, 'device.memoryEfficiency', where, 'positive'),
    overheadUs: number(d.overheadUs, 'device.overheadUs', where, 'non-negative'),
    ...(ops && { ops: Object.fromEntries(Object.entries(ops).map(([name, o]) => [name, opEfficiency(o, `device.ops.${name}`, where)])) }),
    ...(d.wake !== undefined && { wake: wake(d.wake, where) }),
  };
}

function link(value: unknown, where: string): LinkHardware {
  const l = record(value, 'link', where);
  noOthers(l, ['latencyUs', 'bytesPerS', 'efficiency'], 'link', where);
  return {
    latencyUs: number(l.latencyUs, 'link.latencyUs', where, 'non-negative'),
    bytesPerS: number(l.bytesPerS, 'link.bytesPerS', where, 'positive'),
    efficiency: number(l.efficiency, 'link.efficiency', where, 'positive'),
  };
}

/** `value` as a HardwareProfile, or a HardwareProfileError naming `where` and the first bad field. */
export function checkHardwareProfile(value: unknown, where: string): HardwareProfile {
  const p = record(value, 'the profile', where);
  noOthers(p, ['name', 'models', 'device', 'link', 'measured'], 'the profile', where);
  const measured = p.measured === undefined ? undefined : record(p.measured, 'measured', where);
  return {
    name: text(p.name, 'name', where),
    models: text(p.models, 'models', where),
    device: device(p.device, where),
    link: link(p.link, where),
    ...(measured && { measured }),
  };
}
