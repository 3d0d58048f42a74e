// Loading checkpoint directories: single and sharded, partial loading of an expert subset, and every
// malformed-checkpoint case rejected with an error naming the file and the problem.
import assert from 'node:assert/strict';
import { readFile, rm, truncate, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointError, expertSpecs, loadModel, type MoeModel } from '@asap/actors';
import { Tensor } from '@asap/runtime';
import { editConfig, editHeader, readSafetensorsParts, withTinyModel, writeSafetensorsParts } from './support/checkpoints.ts';

async function loadError(dir: string): Promise<CheckpointError> {
  try {
    await loadModel(dir);
  } catch (error) {
    assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the checkpoint to be rejected');
}

function sameWeights(a: Tensor, b: Tensor): void {
  assert.equal(a.dtype, b.dtype);
  assert.deepEqual(a.shape, b.shape);
  assert.deepEqual(a.data, b.data);
}

test('partial loading reads only the selected experts', async () => {
  await withTinyModel('qwen3_moe', async (dir) => {
    const full = (await loadModel(dir)).model;
    const part = await loadModel(dir, { attentionSide: false, experts: [5, 2] });
    const c = part.model.config;
    const expected = [0, 1].flatMap((layer) =>
      [2, 5].flatMap((e) => {
        const s = expertSpecs(c, layer, e);
        return [s.gate.name, s.up.name, s.down.name];
      }),
    );
    assert.deepEqual(part.tensorsRead, expected);
    const headerLength = Number((await readFile(join(dir, 'model.safetensors'))).readBigUInt64LE(0));
    const expertBytes = 3 * c.hiddenSize * c.expertIntermediateSize * 4;
    assert.equal(part.bytesRead, 8 + headerLength + 2 * 2 * expertBytes);
    assert.equal(part.model.attentionSide, undefined);
    assert.throws(() => part.model.attention(), /loaded without its attention-side weights/);
    for (const layer of [0, 1]) {
      assert.deepEqual(part.model.expertIds(layer), [2, 5]);
      for (const e of [2, 5]) sameWeights(part.model.expert(layer, e).down, full.expert(layer, e).down);
    }
    assert.throws(() => part.model.expert(0, 3), /expert 3 of layer 0: not loaded/);
  });
});

test('per-layer expert selection, and attention side without experts', async () => {
  await withTinyModel('mixtral', async (dir) => {
    const { model } = await loadModel(dir, { experts: (layer) => (layer === 0 ? [0, 7] : [3]) });
    assert.deepEqual([model.expertIds(0), model.expertIds(1)], [[0, 7], [3]]);
    const attentionOnly = await loadModel(dir, { experts: 'none' });
    assert.ok(attentionOnly.tensorsRead.every((name) => !name.includes('.experts.')));
    assert.ok(attentionOnly.tensorsRead.includes('model.layers.1.block_sparse_moe.gate.weight'));
    await assert.rejects(loadModel(dir, { experts: [8] }), /expert 8 requested for layer 0, the model has experts 0\.\.7/);
  });
});

test('a sharded checkpoint loads the same weights as the single file', async () => {
  await withTinyModel('qwen2_moe', async (single) => {
    await withTinyModel(
      'qwen2_moe',
      async (sharded) => {
        const a: MoeModel = (await loadModel(single)).model;
        const b: MoeModel = (await loadModel(sharded)).model;
        const index = JSON.parse(await readFile(join(sharded, 'model.safetensors.index.json'), 'utf8'));
        assert.equal(new Set(Object.values(index.weight_map)).size, 3);
        sameWeights(a.attention().embedTokens, b.attention().embedTokens);
        sameWeights(a.attention().lmHead, b.attention().lmHead);
        for (let layer = 0; layer < a.config.numLayers; layer++) {
          for (const e of a.expertIds(layer)) sameWeights(a.expert(layer, e).gate, b.expert(layer, e).gate);
        }
      },
      { shards: 3 },
    );
  });
});

test('missing config.json', async () => {
  await withTinyModel('mixtral', async (dir) => {
    await rm(join(dir, 'config.json'));
    const error = await loadError(dir);
    assert.equal(error.file, join(dir, 'config.json'));
    assert.match(error.message, /missing config\.json/);
  });
});

test('unknown model_type', async () => {
  await withTinyModel('mixtral', async (dir) => {
    await editConfig(dir, (c) => {
      c.model_type = 'llama';
    });
    assert.match((await loadError(dir)).message, /config\.json: unknown model_type "llama"/);
  });
});

test('no weights file at all', async () => {
  await withTinyModel('mixtral', async (dir) => {
    await rm(join(dir, 'model.safetensors'));
    assert.match((await loadError(dir)).message, /no weights: neither model\.safetensors nor model\.safetensors\.index\.json is present/);
  });
});

test('truncated file', async () => {
  await withTinyModel('qwen3_moe', async (dir) => {
    const path = join(dir, 'model.safetensors');
    await truncate(path, (await stat(path)).size - 1000);
    const error = await loadError(dir);
    assert.equal(error.file, path);
    assert.match(error.message, /truncated: tensor .* needs data bytes/);
  });
});

test('header that is not JSON', async () => {
  await withTinyModel('qwen3_moe', async (dir) => {
    const path = join(dir, 'model.safetensors');
    const bytes = await readFile(path);
    bytes.write('not json', 8);
    await writeFile(path, bytes);
    assert.match((await loadError(dir)).message, /model\.safetensors: header is not valid JSON/);
  });
});

test('header that points past the end', async () => {
  await withTinyModel('qwen3_moe', async (dir) => {
    const path = join(dir, 'model.safetensors');
    const bytes = await readFile(path);
    bytes.writeBigUInt64LE(BigInt(bytes.length));
    await writeFile(path, bytes);
    assert.match((await loadError(dir)).message, /model\.safetensors: truncated: header length \d+ points past the end of the file/);
  });
});

test('missing tensor', async () => {
  await withTinyModel('qwen2_moe', async (dir) => {
    const path = join(dir, 'model.safetensors');
    await editHeader(path, (h) => {
      delete h['model.layers.1.mlp.shared_expert_gate.weight'];
    });
    const error = await loadError(dir);
    assert.equal(error.file, path);
    assert.match(error.message, /missing tensor model\.layers\.1\.mlp\.shared_expert_gate\.weight/);
  });
});

test('missing tensor in a shard the index names', async () => {
  await withTinyModel(
    'qwen2_moe',
    async (dir) => {
      const shard = join(dir, 'model-00002-of-00002.safetensors');
      let victim = '';
      await editHeader(shard, (h) => {
        victim = Object.keys(h).find((k) => k !== '__metadata__')!;
        delete h[victim];
      });
      const error = await loadError(dir);
      assert.equal(error.file, shard);
      assert.equal(error.problem, `missing tensor ${victim} (model.safetensors.index.json maps it to this shard)`);
      await rm(shard);
      assert.match((await loadError(dir)).message, /model-00002-of-00002\.safetensors: file not found/);
    },
    { shards: 2 },
  );
});

test('shape that disagrees with the config', async () => {
  await withTinyModel('mixtral', async (dir) => {
    await editConfig(dir, (c) => {
      c.intermediate_size = 48;
    });
    assert.match(
      (await loadError(dir)).message,
      /model\.safetensors: tensor model\.layers\.0\.block_sparse_moe\.experts\.0\.w1\.weight has shape \[32, 64\], config\.json implies \[48, 64\]/,
    );
  });
});

test('unsupported dtype', async () => {
  await withTinyModel('mixtral', async (dir) => {
    const path = join(dir, 'model.safetensors');
    const parts = await readSafetensorsParts(path);
    (parts.header['model.norm.weight'] as { dtype: string }).dtype = 'I32';
    await writeSafetensorsParts(path, parts);
    assert.match((await loadError(dir)).message, /model\.safetensors: tensor model\.norm\.weight has unsupported dtype I32 \(supported: F32, F16, BF16\)/);
  });
});

test('a bad checkpoint fails before any weight is read, even for a partial load', async () => {
  await withTinyModel('mixtral', async (dir) => {
    await editHeader(join(dir, 'model.safetensors'), (h) => {
      delete h['model.layers.1.block_sparse_moe.experts.7.w2.weight'];
    });
    await assert.rejects(loadModel(dir, { attentionSide: false, experts: [0] }), /missing tensor model\.layers\.1\.block_sparse_moe\.experts\.7\.w2\.weight/);
  });
});

test('bf16 and tied embeddings load; the LM head is the embedding itself', async () => {
  await withTinyModel(
    'qwen3_moe',
    async (dir) => {
      await editConfig(dir, (c) => {
        c.tie_word_embeddings = true;
      });
      await editHeader(join(dir, 'model.safetensors'), (h) => {
        delete h['lm_head.weight'];
      });
      const { model, tensorsRead } = await loadModel(dir);
      assert.equal(model.attention().lmHead, model.attention().embedTokens);
      assert.equal(model.attention().embedTokens.dtype, 'bf16');
      assert.ok(!tensorsRead.includes('lm_head.weight'));
    },
    { dtype: 'bf16' },
  );
});
