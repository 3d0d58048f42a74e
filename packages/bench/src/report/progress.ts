// A progress bar on stderr for anything longer than a few seconds; silent under --json and when stderr is
// not a terminal, so piped output and tests see none of it.
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** Starts (or restarts) the bar for a new stage. */
  stage(label: string, total: number): void;
  tick(by?: number): void;
  stop(): void;
}

export const SILENT: Progress = { stage() {}, tick() {}, stop() {} };

export function progressBar(quiet: boolean): Progress {
  if (quiet || !process.stderr.isTTY) return SILENT;
  const bar = new SingleBar({ format: ' {stage} [{bar}] {value}/{total} {duration_formatted}', stream: process.stderr, hideCursor: true, clearOnComplete: true });
  let running = false;
  return {
    stage(label, total) {
      if (running) bar.stop();
      bar.start(total, 0, { stage: label.padEnd(32) });
      running = true;
    },
    tick(by = 1) {
      if (running) bar.increment(by);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
