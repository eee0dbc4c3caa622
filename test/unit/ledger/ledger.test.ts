import { describe, expect, it } from 'vitest';
import { type LedgerEntry, ledgerId, ledgerReport } from '../../../src/ledger/index.js';

const entry = (topic: string, id: string | undefined, offset = '0'): LedgerEntry => ({ topic, partition: 0, offset, id, key: id ?? null, headers: {}, value: Buffer.alloc(0) });

describe('ledger', () => {
  it('identifies records by the JSON id, else by key', () => {
    expect(ledgerId(Buffer.from('k1'), Buffer.from('{"id":"v1"}'))).toBe('v1');
    expect(ledgerId(Buffer.from('k1'), Buffer.from('\u0000avro'))).toBe('k1');
    expect(ledgerId(null, Buffer.from('null'))).toBeUndefined();
    expect(ledgerId(null, Buffer.from('\u0000avro'))).toBeUndefined();
  });

  it('reports missing, duplicated and in-both ids, and counts records per topic', () => {
    const entries = [entry('out', 'a'), entry('out', 'b'), entry('out', 'b', '1'), entry('dlq', 'c'), entry('out', 'd'), entry('dlq', 'd'), entry('dlq', undefined)];
    expect(ledgerReport(entries, 'out', ['a', 'b', 'c', 'd', 'e'])).toEqual({ expected: 5, outputs: 4, deadLetters: 3, missing: ['e'], duplicated: ['b'], inBoth: ['d'] });
  });
});
