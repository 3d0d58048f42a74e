// Every command answers --help (usage on stdout, exit 0, nothing run) and refuses a flag given twice.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.ts');
const COMMANDS = ['demo', 'bench channels', 'bench kernels', 'gen-model', 'prefill'];

function asap(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
    );
  });
}

test('--help on the tool and on every command prints its usage and runs nothing', async () => {
  const runs = await Promise.all([['--help'], ...COMMANDS.map((c) => [...c.split(' '), '--help'])].map(asap));
  runs.forEach((run, i) => {
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.match(run.stdout, i === 0 ? /^usage:\n {2}asap demo/ : new RegExp(`^usage: asap ${COMMANDS[i - 1]}`));
  });
});

test('a flag given twice is an error, not "last one wins"', async () => {
  const [prefill, gen, kernels] = await Promise.all([
    asap(['prefill', '--tokens', '1', '--tokens', '2']),
    asap(['gen-model', '--out=/tmp/x', '--out', '/tmp/y', '--arch', 'mixtral']),
    asap(['bench', 'kernels', '--json', '--json']),
  ]);
  for (const [run, flag] of [[prefill, 'tokens'], [gen, 'out'], [kernels, 'json']] as const) {
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, new RegExp(`^asap: --${flag} is given twice\\nusage: asap `));
  }
});
