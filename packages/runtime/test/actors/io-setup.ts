// Its setup waits for real I/O (a file read, a timer, a dynamic import), as loading a checkpoint would.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { defineActor } from '@asap/runtime';

export default defineActor(async () => {
  const source = await readFile(fileURLToPath(import.meta.url), 'utf8');
  await new Promise((resolve) => setTimeout(resolve, 5));
  await import('node:zlib');
  return { stats: () => ({ sourceBytes: source.length }) };
});
