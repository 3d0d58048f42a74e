import type { Device, DeviceOp } from '../../actor/context.ts';

/** The threads host's device: runs the kernel right away on this thread and counts wall-clock busy time. */
export class WallClockDevice implements Device {
  ops = 0;
  busyMs = 0;

  run<T>(op: DeviceOp, compute: () => T): Promise<T> {
    if (typeof op?.name !== 'string') return Promise.reject(new TypeError('device.run: op needs a name'));
    const start = performance.now();
    try {
      return Promise.resolve(compute());
    } catch (error) {
      return Promise.reject(error);
    } finally {
      this.ops++;
      this.busyMs += performance.now() - start;
    }
  }

  idle(): Promise<void> {
    return Promise.resolve();
  }
}
