import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Arena, ArenaExhaustedError, Tensor, bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '@asap/runtime';
import { yieldTurn } from '../src/memory/yield-turn.ts';

describe('dtype conversion', () => {
  it('round-trips every bf16 bit pattern exactly through f32', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = bf16ToF32(bits);
      if (Number.isNaN(value)) assert.ok(Number.isNaN(bf16ToF32(f32ToBf16(value))));
      else assert.equal(f32ToBf16(value), bits, `bf16 0x${bits.toString(16)}`);
    }
  });

  it('round-trips every f16 bit pattern exactly through f32', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = f16ToF32(bits);
      if (Number.isNaN(value)) assert.ok(Number.isNaN(f16ToF32(f32ToF16(value))));
      else assert.equal(f32ToF16(value), bits, `f16 0x${bits.toString(16)}`);
    }
  });

  it('rounds f32 to bf16 to nearest, ties to even', () => {
    // 1 + 2^-8 lies exactly between bf16 1.0 and 1 + 2^-7: the even neighbour (1.0) wins.
    assert.equal(bf16ToF32(f32ToBf16(1 + 2 ** -8)), 1);
    // 1 + 3·2^-8 lies between 1 + 2^-7 (odd) and 1 + 2^-6 (even): rounds up to the even one.
    assert.equal(bf16ToF32(f32ToBf16(1 + 3 * 2 ** -8)), 1 + 2 ** -6);
    assert.equal(bf16ToF32(f32ToBf16(1 + 2 ** -8 + 2 ** -12)), 1 + 2 ** -7);
  });

  it('rounds f32 to f16 including subnormals and overflow', () => {
    assert.equal(f16ToF32(f32ToF16(65520)), Infinity); // halfway past the largest f16 rounds to infinity
    assert.equal(f16ToF32(f32ToF16(65504)), 65504);
    assert.equal(f16ToF32(f32ToF16(2 ** -24)), 2 ** -24); // smallest subnormal
    assert.equal(f16ToF32(f32ToF16(2 ** -25)), 0); // exactly half of it: ties to even (zero)
    assert.equal(f16ToF32(f32ToF16(1.5 * 2 ** -25)), 2 ** -24);
  });
});

describe('Tensor', () => {
  it('keeps data in a SharedArrayBuffer and slices rows as views', () => {
    const t = Tensor.fromF32([1, 2, 3, 4, 5, 6], [3, 2]);
    assert.ok(t.buffer instanceof SharedArrayBuffer);
    const middle = t.rows(1, 2);
    assert.deepEqual([...middle.toF32()], [3, 4]);
    middle.data[0] = 30;
    assert.equal(t.toF32()[2], 30, 'a row view shares memory with its parent');
    assert.equal(middle.buffer, t.buffer);
  });

  it('crosses a descriptor without a copy', () => {
    const t = Tensor.fromF32([1, 2, 3, 4], [2, 2], 'bf16');
    const back = Tensor.fromDescriptor(t.descriptor);
    assert.equal(back.buffer, t.buffer);
    assert.deepEqual([...back.toF32()], [1, 2, 3, 4]);
  });

  it('rejects bad shapes and ranges with the numbers involved', () => {
    assert.throws(() => Tensor.fromF32([1, 2, 3], [2, 2]), /needs 4 values, got 3/);
    assert.throws(() => Tensor.zeros([2, -1]), /bad dimension -1/);
    assert.throws(() => Tensor.zeros([4, 2]).rows(3, 5), /\[3, 5\) is outside 0\.\.4/);
    assert.throws(() => Tensor.zeros([4, 2]).reshape([3, 3]), /cannot become \[3, 3\]/);
  });
});

describe('Arena', () => {
  it('allocates within its budget and says who ran out, by how much', () => {
    const arena = new Arena({ name: 'expert-3', bytes: 1024 });
    const a = arena.alloc([64], 'f32'); // 256 bytes
    arena.alloc([128], 'f32'); // 512 bytes
    assert.equal(arena.used, 768);
    assert.throws(() => arena.alloc([128], 'f32'), (e: unknown) => {
      assert.ok(e instanceof ArenaExhaustedError);
      assert.match(e.message, /arena "expert-3": cannot allocate 512 bytes: 256 of 1024 bytes free/);
      return true;
    });
    arena.release(a);
    assert.equal(arena.used, 512);
    assert.throws(() => arena.release(a), /already released/);
  });

  it('refuses a bad shape without losing memory, and refuses to free through a row view', () => {
    const arena = new Arena({ name: 'a', bytes: 1024 });
    assert.throws(() => arena.alloc([-1, 4]), /bad dimension -1/);
    assert.throws(() => arena.alloc([1.5, 2]), /bad dimension 1.5/);
    assert.equal(arena.used, 0);
    const t = arena.alloc([4, 16]);
    assert.throws(() => arena.release(t.rows(0, 1)), /is a view of a 256-byte block/);
    assert.equal(arena.used, 256);
    arena.release(t.reshape([64]));
    assert.equal(arena.used, 0);
  });

  it('coalesces freed blocks so the whole budget is usable again', () => {
    const arena = new Arena({ name: 'a', bytes: 4096 });
    const parts = Array.from({ length: 4 }, () => arena.alloc([256], 'f32'));
    for (const i of [1, 3, 0, 2]) arena.release(parts[i]);
    const whole = arena.alloc([1024], 'f32');
    assert.equal(whole.byteOffset, 0);
    assert.equal(arena.peakUsed, 4096);
  });

  it('makes a waiting caller wait for a release (backpressure), and rejects what can never fit', async () => {
    const arena = new Arena({ name: 'a', bytes: 1024 });
    const held = arena.alloc([256], 'f32');
    let got = false;
    const pending = arena.allocWhenFree([128], 'f32').then((t) => {
      got = true;
      return t;
    });
    await yieldTurn();
    assert.equal(got, false);
    arena.release(held);
    const t = await pending;
    assert.equal(t.size, 128);
    await assert.rejects(arena.allocWhenFree([1024], 'f32'), ArenaExhaustedError);
  });
});
