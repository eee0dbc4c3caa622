import { describe, expect, it } from 'vitest';
import { withoutAborted } from '../../../../src/kafka/kafkajs/aborted.js';

const ABORT = Buffer.from([0, 0, 0, 0]);
const record = (offset: number, producerId: string, inTransaction = true) => ({ offset: String(offset), key: null, batchContext: { producerId, inTransaction } });
const abortMarker = (offset: number, producerId: string) => ({ offset: String(offset), key: ABORT, isControlRecord: true, batchContext: { producerId, inTransaction: true } });

describe("kafkajs's aborted-transaction filter, replaced", () => {
  it('drops the records of every aborted transaction, listed in the order they ended', () => {
    // A began first (a1), B second (b1); B ended first: the broker lists B before A.
    const messages = [record(0, 'A'), record(1, 'B'), abortMarker(2, 'B'), record(3, 'A'), abortMarker(4, 'A'), record(5, 'C', false)];
    const kept = withoutAborted({ messages, abortedTransactions: [{ firstOffset: '1', producerId: 'B' }, { firstOffset: '0', producerId: 'A' }] });
    expect(kept.map((m) => m.offset)).toEqual(['2', '4', '5']); // markers stay for kafkajs to drop as control records
  });

  it('starts every aborted transaction that began before the fetch offset, not one per record', () => {
    // The fetch starts at offset 10, inside two aborted transactions that began at 3 and 4.
    const messages = [record(10, 'B'), record(11, 'A'), abortMarker(12, 'A'), abortMarker(13, 'B'), record(14, 'A')];
    const kept = withoutAborted({ messages, abortedTransactions: [{ firstOffset: '3', producerId: 'A' }, { firstOffset: '4', producerId: 'B' }] });
    expect(kept.map((m) => m.offset)).toEqual(['12', '13', '14']);
  });

  it('keeps committed transactions of the same producer, and records whose key merely looks like a marker', () => {
    const messages = [record(0, 'A'), abortMarker(1, 'A'), record(2, 'A'), { ...record(3, 'A'), key: ABORT }];
    const kept = withoutAborted({ messages, abortedTransactions: [{ firstOffset: '0', producerId: 'A' }] });
    expect(kept.map((m) => m.offset)).toEqual(['1', '2', '3']);
    expect(withoutAborted({ messages, abortedTransactions: [] })).toHaveLength(4);
  });
});
