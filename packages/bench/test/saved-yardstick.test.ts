import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSavedYardstick } from '../src/run/saved-yardstick.ts';

const run = {
  setup: { engine: 'asap', ranks: 384, profile: 'cm384' },
  model: 'deepseek-v3',
  unloaded: { lengths: [16, 128, 5345], ttftMs: [39.6, 41.7, 1111.3] },
};
const cluster = { profile: 'cm384', model: 'deepseek-v3', ranks: 384, maxLength: 5000 };

async function saved(content: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'yardstick-')), 'run.json');
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

test('a saved run gives its unloaded curve to a run on the same cluster', async () => {
  assert.deepEqual(await readSavedYardstick(await saved(run), cluster), run.unloaded);
});

test('a saved run on another cluster, one without a curve, a short curve or no JSON at all is refused, naming why', async () => {
  const file = await saved(run);
  await assert.rejects(readSavedYardstick(file, { ...cluster, ranks: 16 }), /measured on .*"ranks":384.*this run is .*"ranks":16/);
  await assert.rejects(readSavedYardstick(file, { ...cluster, profile: 'h200' }), /"profile":"h200"/);
  await assert.rejects(readSavedYardstick(file, { ...cluster, maxLength: 8000 }), /stops at 5345 tokens.*prompts of 8000/);
  await assert.rejects(readSavedYardstick(await saved({ ...run, unloaded: undefined }), cluster), /no unloaded TTFT curve/);
  await assert.rejects(readSavedYardstick(await saved('{ not json'), cluster), /not a readable/);
});

test('the expert popularity and placement must match too: another skew, or EPLB on against a run from before it, is refused', async () => {
  const skewed = { ...run, setup: { ...run.setup, shapesOnly: { skew: 1, history: true } } };
  const file = await saved(skewed);
  assert.deepEqual(await readSavedYardstick(file, { ...cluster, shapesOnly: { skew: 1 } }), run.unloaded, 'history defaults to on');
  await assert.rejects(readSavedYardstick(file, { ...cluster, shapesOnly: { skew: 0.5, history: true } }), /skew 1, EPLB on.*skew 0.5, EPLB on/);
  const before = await saved({ ...run, setup: { ...run.setup, shapesOnly: { skew: 1 } } });
  await assert.rejects(readSavedYardstick(before, { ...cluster, shapesOnly: { skew: 1, history: true } }), /EPLB off.*EPLB on/);
  assert.deepEqual(await readSavedYardstick(before, { ...cluster, shapesOnly: { skew: 1, history: false } }), run.unloaded);
});
