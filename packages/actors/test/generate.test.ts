// The tiny-model generator: deterministic from a seed, real checkpoints for every architecture.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARCH_NAMES, attentionHalf, generateModel, KvCache, loadModel, parseModelConfig, PRESETS, presetConfigJson, referencePrefill } from '@asap/actors';
import { type Backend, createBackend } from '@asap/runtime';
import { withTempDir, withTinyModel } from './support/checkpoints.ts';

let backend: Backend;
before(async () => {
  backend = await createBackend('js');
});
after(() => backend.dispose());

async function fileBytes(dir: string): Promise<Map<string, Buffer>> {
  const names = (await readdir(dir)).sort();
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n))] as const)));
}

test('same seed → byte-identical files; another seed → other weights, same config', async () => {
  for (const shards of [1, 2]) {
    await withTinyModel('qwen2_moe', async (a) => {
      await withTinyModel('qwen2_moe', async (b) => {
        assert.deepEqual(await fileBytes(a), await fileBytes(b), `shards ${shards}`);
      }, { seed: 7, shards });
      await withTinyModel('qwen2_moe', async (c) => {
        const [x, y] = [await fileBytes(a), await fileBytes(c)];
        assert.deepEqual(x.get('config.json'), y.get('config.json'));
        const weights = shards === 1 ? 'model.safetensors' : 'model-00001-of-00002.safetensors';
        assert.notDeepEqual(x.get(weights), y.get(weights));
      }, { seed: 8, shards });
    }, { seed: 7, shards });
  }
});

test('the default tiny model is the same on every machine (pinned digest)', async () => {
  await withTinyModel('qwen3_moe', async (dir) => {
    const digest = createHash('sha256').update(await readFile(join(dir, 'model.safetensors'))).digest('hex');
    assert.equal(digest, PINNED_TINY_QWEN3_SEED1);
  });
});

test('every architecture generates a checkpoint that loads and prefills', async () => {
  for (const arch of ARCH_NAMES) {
    for (const dtype of ['f32', 'bf16'] as const) {
      await withTinyModel(arch, async (dir) => {
        const { model } = await loadModel(dir);
        assert.equal(model.config.arch, arch);
        const r = referencePrefill(backend, model, [1, 2, 3, 200, 17]);
        assert.ok(r.logits.every(Number.isFinite), `${arch} ${dtype}: finite logits`);
        assert.ok(r.firstToken >= 0 && r.firstToken < model.config.vocabSize);
      }, { dtype });
    }
  }
});

test('generated routing spreads tokens over the experts', async () => {
  await withTinyModel('mixtral', async (dir) => {
    const { model } = await loadModel(dir);
    const tokens = Array.from({ length: 64 }, (_, i) => (i * 37) % model.config.vocabSize);
    const seen = new Set<number>();
    const kv = KvCache.create(model.config, tokens.length);
    const hidden = backend.gatherRows(model.attention().embedTokens, Int32Array.from(tokens));
    for (const e of attentionHalf(backend, model, 0, hidden, kv.layers[0]).moe!.routing.experts) seen.add(e);
    assert.equal(seen.size, model.config.numExperts);
  });
});

test('presets give valid configs for every architecture; qwen3 heads are wider than hidden / heads', () => {
  for (const [name, preset] of Object.entries(PRESETS)) {
    for (const arch of ARCH_NAMES) {
      const c = parseModelConfig(presetConfigJson(arch, preset, 'float32'), `${arch} ${name}`);
      assert.equal(c.hiddenSize, preset.hiddenSize);
      assert.equal(c.numExperts, preset.numExperts);
      if (arch === 'qwen3_moe') assert.equal(c.headDim, (2 * preset.hiddenSize) / preset.numHeads);
    }
  }
});

test('bad generator options are rejected', async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(generateModel({ arch: 'mixtral', preset: 'tiny', seed: 1.5, out: dir }), /seed must be an integer/);
    await assert.rejects(generateModel({ arch: 'mixtral', preset: 'tiny', seed: 1, out: dir, shards: 0 }), /shards must be an integer/);
  });
});

// Changing the generator changes every demo and test model: update this only on purpose.
const PINNED_TINY_QWEN3_SEED1 = 'c180f11f4be569b6503a9e4c5bfa171f0ab661840f9c4cc6091c5bb98e0f7b0f';
