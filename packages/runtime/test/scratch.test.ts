// Scratch regions and allocation in a backend's memory: fixed size, reused, given back whole.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Arena, Scratch, Tensor, backendTensor, createBackend, releaseBackendTensor } from '@asap/runtime';

test('scratch: takes are aligned views of one block; mark/resetTo and reset reuse the memory', () => {
  const arena = new Arena({ name: 'test', bytes: 4096 });
  const scratch = Scratch.create('layer', 1024, arena);
  assert.ok(scratch.inArena(arena));
  assert.equal(arena.used, 1024);
  const a = scratch.take([3, 5]);
  const b = scratch.take([2], 'bf16');
  assert.equal(a.buffer, arena.buffer);
  assert.equal(b.byteOffset - a.byteOffset, 64, 'each take starts on a cache line');
  const mark = scratch.mark();
  const c = scratch.take([4]);
  (c.data as Float32Array).fill(7);
  scratch.resetTo(mark);
  const d = scratch.take([4]);
  assert.equal(d.byteOffset, c.byteOffset, 'the memory after the mark is reused');
  assert.deepEqual(Array.from(d.data), [0, 0, 0, 0], 'zeroed unless told not to');
  assert.equal(scratch.take([4], 'f32', { zero: false }).size, 4);
  assert.equal(scratch.take([0, 8]).size, 0, 'an empty tensor takes one cache line');
  scratch.reset();
  assert.equal(scratch.used, 0);
  assert.equal(scratch.peakUsed, 320);
  assert.throws(() => scratch.take([300]), /scratch "layer": \[300\] f32 needs 1216 bytes, 1024 of 1024 are left/);
  scratch.release();
  assert.equal(arena.used, 0);
  assert.throws(() => scratch.take([1]), /scratch "layer": used after release\(\)/);
});

test('scratch: bytesFor is exactly the room a sequence of takes needs', () => {
  const shapes = [[3, 5], [0, 8], [17, 16]];
  const bytes = Scratch.bytesFor(shapes);
  assert.equal(bytes, 64 + 64 + 17 * 16 * 4);
  const scratch = Scratch.create('exact', bytes);
  for (const shape of shapes) scratch.take(shape, 'f32', { zero: false });
  assert.equal(scratch.used, bytes);
  assert.throws(() => scratch.take([1]), /needs 64 bytes, 0 of/);
  assert.equal(Scratch.bytesFor([[3]], 'bf16'), 64);
});

test('scratch and backendTensor fall back to fresh shared memory when the arena has no room', async () => {
  const arena = new Arena({ name: 'small', bytes: 256 });
  const scratch = Scratch.create('big', 1024, arena);
  assert.equal(scratch.inArena(arena), false);
  assert.ok(scratch.take([200]).buffer instanceof SharedArrayBuffer);
  scratch.release();
  const wasm = await createBackend('wasm', { memoryBytes: 4 * 1024 * 1024 });
  const before = wasm.arena!.used;
  const inside = backendTensor(wasm, [16, 16]);
  assert.ok(wasm.arena!.owns(inside));
  const outside = backendTensor(wasm, [4096, 1024]);
  assert.equal(wasm.arena!.owns(outside), false);
  assert.ok(outside instanceof Tensor);
  releaseBackendTensor(wasm, inside);
  releaseBackendTensor(wasm, outside);
  assert.equal(wasm.arena!.used, before);
  wasm.dispose();
  const js = await createBackend('js');
  assert.equal(js.arena, undefined);
  assert.deepEqual(Array.from(backendTensor(js, [2, 2]).data), [0, 0, 0, 0]);
});
