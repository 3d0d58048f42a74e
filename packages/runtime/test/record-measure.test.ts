// measureMessage (hosts without a ring) must agree with encodeMessage and receivedMeta (what a ring carries).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../src/index.ts';
import { encodeMessage, measureMessage, receivedMeta } from '../src/channel/record.ts';
import type { ChannelMessage } from '../src/channel/message.ts';

test('measureMessage gives encodeMessage\'s record size and receivedMeta\'s meta', () => {
  const messages: ChannelMessage[] = [
    { kind: 'bare' },
    { kind: 'number', meta: -0 },
    { kind: 'nan', meta: Number.NaN },
    { kind: 'plain', meta: { layer: 3, batch: 7, groups: [[1, 2], [5, 40]], requests: [9], deadlineMs: 12.5 } },
    { kind: 'unicode ü', meta: { name: '😀 "quoted"', list: [] } },
    { kind: 'undefined key', meta: { a: 1, b: undefined } },
    { kind: 'date', meta: { at: new Date(0) } },
    { kind: 'string', meta: 'hello' },
    { kind: 'tensors', meta: { n: 1 }, tensors: [Tensor.zeros([3, 5]), Tensor.zeros([2], 'bf16')] },
  ];
  for (const message of messages) {
    const encoded = encodeMessage('test', message);
    const measured = measureMessage('test', message);
    assert.equal(measured.recordBytes, encoded.recordBytes, message.kind);
    assert.deepStrictEqual(measured.meta, receivedMeta(encoded, message.meta), message.kind);
    assert.equal(measured.tensors.length, encoded.tensors.length);
    measured.tensors.forEach((t, i) => assert.equal(t, encoded.tensors[i], 'the sent tensors, not copies (the host copies them)'));
    if (typeof message.meta === 'object') assert.notEqual(measured.meta, message.meta, 'a copy');
  }
});

test('measureMessage rejects what encodeMessage rejects', () => {
  const bad: unknown[] = [null, { kind: 1 }, { kind: 'x', tensors: 'no' }, { kind: 'x', tensors: [{}] }, { kind: 'x', meta: { n: 1n } }];
  for (const message of bad) {
    assert.throws(() => encodeMessage('test', message as ChannelMessage));
    assert.throws(() => measureMessage('test', message as ChannelMessage));
  }
});
