// The safetensors reader and writer: round trips, byte-range reads, and every malformed-file error.
import assert from 'node:assert/strict';
import { open, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointError, SafetensorsFile, writeSafetensors } from '@asap/actors';
import { Tensor } from '@asap/runtime';
import { editHeader, withTempDir } from './support/checkpoints.ts';

const a = Tensor.fromF32([1, -2.5, 3, 1e-3, 0, 7], [2, 3]);
const b = Tensor.fromF32([0.1, 0.2, 0.3, 65504], [4], 'bf16');
const c = Tensor.fromF32([0.5, -0.25], [1, 2], 'f16');

async function withFile(body: (path: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const path = join(dir, 'model.safetensors');
    await writeSafetensors(path, [['a', a], ['b', b], ['c', c]]);
    await body(path);
  });
}

async function openError(path: string): Promise<CheckpointError> {
  try {
    await SafetensorsFile.open(path);
  } catch (error) {
    assert.ok(error instanceof CheckpointError, String(error));
    assert.equal(error.file, path);
    return error;
  }
  assert.fail('expected the file to be rejected');
}

test('written tensors read back bit for bit in their dtype, header 8-byte aligned', async () => {
  await withFile(async (path) => {
    const file = await SafetensorsFile.open(path);
    try {
      assert.deepEqual([...file.entries.keys()], ['a', 'b', 'c']);
      assert.equal(file.metadata.format, 'pt');
      assert.equal(file.entries.get('a')!.begin % 8, 0);
      for (const [name, expected] of [['a', a], ['b', b], ['c', c]] as const) {
        const t = await file.read(name);
        assert.equal(t.dtype, expected.dtype);
        assert.deepEqual(t.shape, expected.shape);
        assert.deepEqual(t.data, expected.data);
        assert.ok(t.buffer instanceof SharedArrayBuffer);
      }
    } finally {
      await file.close();
    }
  });
});

test('reading one tensor reads only its bytes', async () => {
  await withFile(async (path) => {
    const file = await SafetensorsFile.open(path);
    const afterHeader = file.bytesRead;
    await file.read('b');
    assert.equal(file.bytesRead - afterHeader, b.byteLength);
    await file.close();
  });
});

test('a file shorter than the 8-byte length is truncated', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'x.safetensors');
    await writeFile(path, Buffer.from([1, 2, 3]));
    assert.match((await openError(path)).message, /truncated: 3 bytes, shorter than the 8-byte header length/);
  });
});

test('a header length past the end of the file is rejected', async () => {
  await withFile(async (path) => {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(5000n);
    const handle = await open(path, 'r+');
    await handle.write(bytes, 0, 8, 0);
    await handle.close();
    assert.match((await openError(path)).message, /header length 5000 points past the end of the file/);
  });
});

test('a truncated data section is rejected, naming the first tensor cut off', async () => {
  await withFile(async (path) => {
    await truncate(path, (await stat(path)).size - 4);
    assert.match((await openError(path)).message, /truncated: tensor c needs data bytes \[32, 36\) but the data section holds only 32/);
  });
});

test('a header that is not JSON is rejected', async () => {
  await withFile(async (path) => {
    const handle = await open(path, 'r+');
    await handle.write(Buffer.from('{{{{'), 0, 4, 8);
    await handle.close();
    assert.match((await openError(path)).message, /header is not valid JSON/);
  });
});

test('data_offsets pointing past the end are rejected', async () => {
  await withFile(async (path) => {
    await editHeader(path, (h) => {
      (h.c as { data_offsets: number[] }).data_offsets = [400, 408];
    });
    const error = await openError(path);
    assert.match(error.message, /tensor c needs data bytes \[400, 408\)/);
  });
});

test('offsets that disagree with shape × dtype, and malformed entries, are rejected', async () => {
  await withFile(async (path) => {
    await editHeader(path, (h) => {
      (h.a as { shape: number[] }).shape = [3, 3];
    });
    assert.match((await openError(path)).message, /tensor a: data_offsets span 24 bytes but F32 \[3, 3\] needs 36/);
    await editHeader(path, (h) => {
      (h.a as { shape: unknown }).shape = 'big';
    });
    assert.match((await openError(path)).message, /tensor a: shape must be an array/);
  });
});

test('an unsupported dtype is rejected when the tensor is read, naming it', async () => {
  await withFile(async (path) => {
    await editHeader(path, (h) => {
      (h.a as { dtype: string }).dtype = 'I32';
    });
    const file = await SafetensorsFile.open(path);
    await assert.rejects(file.read('a'), (e: Error) => e instanceof CheckpointError && /tensor a has unsupported dtype I32 \(supported: F32, F16, BF16\)/.test(e.message));
    assert.deepEqual((await file.read('b')).data, b.data);
    await file.close();
  });
});

test('a missing file and a missing tensor are named', async () => {
  await withFile(async (path) => {
    assert.match((await openError(`${path}.nope`)).message, /file not found/);
    const file = await SafetensorsFile.open(path);
    await assert.rejects(file.read('zzz'), /model\.safetensors: missing tensor zzz/);
    await file.close();
  });
});
