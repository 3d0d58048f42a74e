// Progress on stderr for anything longer than a few seconds: a bar on a terminal; under --json or with
// stderr piped to a file, a plain line a minute at most (a 384-rank run takes an hour: it shows it is alive),
// which a short run (a test) never reaches.
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** Starts (or restarts) the bar for a new stage; `total` may be an estimate (the count grows past it). */
  stage(label: string, total: number): void;
  tick(by?: number): void;
  stop(): void;
}

export const SILENT: Progress = { stage() {}, tick() {}, stop() {} };

/** How often the plain lines come. */
const LINE_EVERY_MS = 60_000;

export function progressBar(quiet: boolean): Progress {
  if (quiet || !process.stderr.isTTY) return progressLines(LINE_EVERY_MS);
  const bar = new SingleBar({ format: ' {stage} [{bar}] {value}/{total} {duration_formatted}', stream: process.stderr, hideCursor: true, clearOnComplete: true });
  let running = false;
  return {
    stage(label, total) {
      if (running) bar.stop();
      bar.start(total, 0, { stage: label.padEnd(32) });
      running = true;
    },
    tick(by = 1) {
      if (!running) return;
      // A total that was an estimate grows rather than show more done than planned.
      if (bar.getProgress() >= 1) bar.setTotal(bar.getTotal() + by);
      bar.increment(by);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

/** One line per `everyMs` of wall time at most, written when a tick comes. */
function progressLines(everyMs: number): Progress {
  let label = '';
  let total = 0;
  let done = 0;
  let started = 0;
  let last = 0;
  return {
    stage(l, t) {
      label = l.trim();
      total = t;
      done = 0;
      started = last = performance.now();
    },
    tick(by = 1) {
      done += by;
      total = Math.max(total, done);
      const now = performance.now();
      if (now - last < everyMs) return;
      last = now;
      process.stderr.write(`${label}: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} after ${Math.round((now - started) / 1000)} s\n`);
    },
    stop() {},
  };
}
