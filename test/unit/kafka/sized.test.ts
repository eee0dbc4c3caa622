import { describe, expect, it } from 'vitest';
import { MAX_SEND_BYTES, recordBytes, sizedGroups } from '../../../src/kafka/sized.js';
import type { OutMessage } from '../../../src/kafka/index.js';

const message = (i: number, valueBytes: number): OutMessage => ({ topic: 't', key: `k${i}`, value: Buffer.alloc(valueBytes, 120), headers: { 'model-version': '2.0.0' } });

describe('size-bounded produce groups', () => {
  it('cuts messages into consecutive groups under the byte budget, in order, a too-large message alone', () => {
    const messages = Array.from({ length: 10 }, (_, i) => message(i, i === 4 ? 5_000 : 300));
    const groups = sizedGroups(messages, 1_000);
    expect(groups.flat()).toEqual(messages);
    for (const g of groups) expect(g.length === 1 || g.reduce((sum, m) => sum + recordBytes(m), 0) <= 1_000).toBe(true);
    expect(groups.find((g) => g.includes(messages[4] as OutMessage))).toEqual([messages[4]]);
    expect(sizedGroups([], 1_000)).toEqual([]);
  });

  it('trusts a caller-summed size: within the budget one group, unsized; above it cut as usual', () => {
    const messages = Array.from({ length: 10 }, (_, i) => message(i, 300));
    const total = messages.reduce((sum, m) => sum + recordBytes(m), 0);
    expect(sizedGroups(messages, 1_000, 1_000)).toEqual([messages]);
    expect(sizedGroups(messages, 1_000, total)).toEqual(sizedGroups(messages, 1_000));
    expect(sizedGroups([], 1_000, 0)).toEqual([]);
  });

  it('counts key, value, headers and framing; the default budget is half the broker default message.max.bytes', () => {
    expect(recordBytes(message(1, 100))).toBe(64 + 100 + 2 + ('model-version'.length + 5 + 8));
    const headers = { a: 'xy', b: Buffer.alloc(3), c: ['é', Buffer.alloc(4)] };
    expect(recordBytes({ topic: 't', key: null, value: Buffer.alloc(10), headers })).toBe(64 + 10 + (1 + 2 + 8) + (1 + 3 + 8) + (1 + 2 + 8) + (1 + 4 + 8));
    expect(MAX_SEND_BYTES).toBe(524_288);
    const many = Array.from({ length: 3_000 }, (_, i) => message(i, 700));
    expect(sizedGroups(many).length).toBeGreaterThan(3);
  });
});
