// `pnpm test`: every package's tests through turbo, then one closing line that totals them, because turbo
// interleaves each package's own summary with its task logs.
import { spawn } from 'node:child_process';

const child = spawn('turbo', ['run', 'test', '--concurrency=1', '--log-prefix=none', ...process.argv.slice(2)], {
  stdio: ['inherit', 'pipe', 'inherit'],
});
let passed = 0;
let failed = 0;
let pending = '';

function count(line) {
  const m = /^# (pass|fail) (\d+)\s*$/.exec(line.trim());
  if (m) m[1] === 'pass' ? (passed += Number(m[2])) : (failed += Number(m[2]));
}
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const lines = (pending + chunk.toString('utf8')).split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) count(line);
});
child.on('error', (error) => {
  process.stderr.write(`pnpm test: cannot run turbo (${error.message}); run it through pnpm so node_modules/.bin is on PATH\n`);
  process.exitCode = 1;
});
child.on('close', (code, signal) => {
  count(pending);
  process.stdout.write(`\ntests: ${passed} passed, ${failed} failed\n`);
  process.exitCode = code ?? (signal ? 1 : 0);
});
