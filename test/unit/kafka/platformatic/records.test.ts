import { randomBytes } from 'node:crypto';
import { compatibilityPartitioner } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { javaCompatiblePartitioner, murmur2, toProduce } from '../../../../src/kafka/platformatic/records.js';

describe('the platformatic adapter’s records', () => {
  it('hashes keys as the Java client does: Kafka’s own murmur2 test vectors (UtilsTest)', () => {
    const vectors: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [text, hash] of vectors) expect(murmur2(Buffer.from(text))).toBe(hash);
  });

  it('puts every key on the partition the client’s own compatibilityPartitioner would (keys of 0–80 bytes, any bytes)', () => {
    const keys = [...Array.from({ length: 4000 }, (_, i) => randomBytes(i % 81)), Buffer.from('BTC-bybit-binance-1773763260000#3'), Buffer.from('ünïcødé-😀')];
    for (const key of keys) expect(javaCompatiblePartitioner(undefined, key), key.toString('hex')).toBe(compatibilityPartitioner(undefined as never, key));
    expect(javaCompatiblePartitioner(undefined, undefined)).toBe(0);
  });

  it('writes header texts as bytes, reusing the bytes of a text seen before; bytes pass through; a list keeps its last value', () => {
    const value = Buffer.from('{}');
    const a = toProduce({ topic: 't', key: 'k1', value, headers: { 'content-type': 'application/json', trace: Buffer.from([1, 2]), many: ['x', 'y'] } });
    const b = toProduce({ topic: 't', key: null, value, headers: { 'content-type': 'application/json' } });
    const text = (m: typeof a) => [...(m.headers as Map<Buffer, Buffer>)].map(([k, v]) => [k.toString(), v.toString('hex')]);
    expect(text(a)).toEqual([
      ['content-type', Buffer.from('application/json').toString('hex')],
      ['trace', '0102'],
      ['many', Buffer.from('y').toString('hex')],
    ]);
    expect(a.key?.toString()).toBe('k1');
    expect(b).not.toHaveProperty('key');
    const first = (m: typeof a): [Buffer, Buffer] => [...(m.headers as Map<Buffer, Buffer>)][0] as [Buffer, Buffer];
    expect(first(b)[0]).toBe(first(a)[0]);
    expect(first(b)[1]).toBe(first(a)[1]);
  });
});
