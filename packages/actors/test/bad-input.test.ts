// Checkpoints and configs a checkpoint cannot back: rejected from the headers, fast and in small memory, with
// an error naming the file and the field or tensor.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointError, checkPrompt, loadModel, parseModelConfig, referencePrefill } from '@asap/actors';
import { createBackend } from '@asap/runtime';
import { editConfig, editHeader, readSafetensorsParts, withTinyModel, writeSafetensorsParts } from './support/checkpoints.ts';

/** The load's CheckpointError, and how long and how much heap it took to get it. */
async function rejected(dir: string): Promise<{ error: CheckpointError; ms: number; heapGrowthBytes: number }> {
  const heap = process.memoryUsage().heapUsed;
  const start = performance.now();
  try {
    await loadModel(dir);
  } catch (error) {
    assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${String(error)}`);
    return { error, ms: performance.now() - start, heapGrowthBytes: process.memoryUsage().heapUsed - heap };
  }
  assert.fail('expected the checkpoint to be rejected');
}

test('config sizes the checkpoint cannot hold are refused from the headers, in well under a second', async () => {
  await withTinyModel('qwen3_moe', async (dir) => {
    for (const [field, value, expected] of [
      ['num_hidden_layers', 5000, /num_hidden_layers is 5000, but .*model\.safetensors holds tensors for 2 layers/],
      ['num_hidden_layers', 1e6, /num_hidden_layers is 1000000, more than any supported model has \(at most 10000\)/],
      ['num_experts', 60_000, /num_experts is 60000, but .*model\.safetensors holds tensors for 8 experts/],
      ['num_hidden_layers', 2e8, /num_hidden_layers is 200000000, more than any supported model has \(at most 10000\)/],
      ['num_experts', 1e9, /num_experts is 1000000000, more than any supported model has/],
    ] as const) {
      let saved: unknown;
      await editConfig(dir, (c) => {
        saved = c[field];
        c[field] = value;
      });
      const { error, ms, heapGrowthBytes } = await rejected(dir);
      assert.equal(error.file, join(dir, 'config.json'));
      assert.match(error.message, expected);
      assert.ok(ms < 500, `${field} ${value}: rejected after ${ms.toFixed(0)} ms`);
      assert.ok(heapGrowthBytes < 64 << 20, `${field} ${value}: heap grew ${heapGrowthBytes} bytes`);
      await editConfig(dir, (c) => (c[field] = saved));
    }
    await loadModel(dir);
  });
});

test('mixtral names its own expert field (num_local_experts)', async () => {
  await withTinyModel('mixtral', async (dir) => {
    await editConfig(dir, (c) => (c.num_local_experts = 1000));
    assert.match((await rejected(dir)).error.message, /num_local_experts is 1000, but .* holds tensors for \d+ experts/);
  });
});

test('overlapping byte ranges and a tensor named twice in a header are refused', async () => {
  await withTinyModel('qwen3_moe', async (dir) => {
    const file = join(dir, 'model.safetensors');
    const parts = await readSafetensorsParts(file);
    await editHeader(file, (header) => {
      const names = Object.keys(header).filter((n) => n.endsWith('input_layernorm.weight'));
      const [a, b] = names.map((n) => header[n] as { data_offsets: [number, number] });
      b.data_offsets = [...a.data_offsets];
    });
    const overlap = (await rejected(dir)).error;
    assert.equal(overlap.file, file);
    assert.match(overlap.message, /tensors model\.layers\.\d\.input_layernorm\.weight \[\d+, \d+\) and model\.layers\.\d\.input_layernorm\.weight \[\d+, \d+\) overlap/);

    // JSON.parse would keep the second silently: write the header text by hand with one key twice.
    const json = JSON.stringify(parts.header);
    const first = Object.keys(parts.header).find((n) => n !== '__metadata__') as string;
    const twice = `{${JSON.stringify(first)}:${JSON.stringify(parts.header[first])},${json.slice(1)}`;
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(Buffer.byteLength(twice)));
    await writeFile(file, Buffer.concat([length, Buffer.from(twice), parts.data]));
    assert.match((await rejected(dir)).error.message, new RegExp(`header names tensor ${first.replaceAll('.', '\\.')} twice`));
    await writeSafetensorsParts(file, parts);
    await loadModel(dir);
  });
});

test('NaN or infinite weights are refused at load, naming the tensor and the file', async () => {
  for (const dtype of ['f32', 'bf16'] as const) {
    await withTinyModel(
      'qwen3_moe',
      async (dir) => {
        const file = join(dir, 'model.safetensors');
        const parts = await readSafetensorsParts(file);
        const name = 'model.norm.weight';
        const [begin] = (parts.header[name] as { data_offsets: [number, number] }).data_offsets;
        if (dtype === 'f32') parts.data.writeFloatLE(Number.NaN, begin + 4 * 3);
        else parts.data.writeUInt16LE(0xff80, begin + 2 * 3); // bf16 -Infinity
        await writeSafetensorsParts(file, parts);
        const { error } = await rejected(dir);
        assert.equal(error.file, file);
        assert.match(error.message, new RegExp(`tensor model\\.norm\\.weight holds ${dtype === 'f32' ? 'NaN' : '-Infinity'} at element 3`));
      },
      { dtype },
    );
  }
});

test('a directory that does not exist, or a file given as the model, says what is wrong', async () => {
  await withTinyModel('qwen3_moe', async (dir) => {
    const missing = join(dir, 'no-such-model');
    const { error: notThere } = await rejected(missing);
    assert.equal(notThere.file, missing);
    assert.match(notThere.message, /no such directory/);
    const file = join(dir, 'config.json');
    const { error: aFile } = await rejected(file);
    assert.equal(aFile.file, file);
    assert.match(aFile.message, /is a file, not a model directory/);
  });
});

test('a prompt longer than max_position_embeddings is refused, chunk positions included', async () => {
  await withTinyModel('qwen3_moe', async (dir) => {
    await editConfig(dir, (c) => (c.max_position_embeddings = 8));
    const { model } = await loadModel(dir);
    const backend = await createBackend('js');
    assert.throws(() => referencePrefill(backend, model, [1, 2, 3, 4, 5, 6, 7, 8, 9]), /prompt too long: positions 0\.\.8 exceed the model's max_position_embeddings \(8\)/);
    const first = referencePrefill(backend, model, [1, 2, 3, 4, 5]);
    assert.throws(() => referencePrefill(backend, model, [6, 7, 8, 9], { kv: first.kv }), /positions 5\.\.8 exceed/);
    assert.equal(first.kv.length, 5, 'the refused chunk left the cache as it was');
    assert.throws(() => checkPrompt([1, 2], 10, 1), /prompt too long/);
    assert.equal(parseModelConfig({ model_type: 'qwen3_moe' }).maxPositionEmbeddings, 32768);
  });
});
