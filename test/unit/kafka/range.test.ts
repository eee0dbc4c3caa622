import { describe, expect, it } from 'vitest';
import { bufferedRange, type RangeSink } from '../../../src/kafka/range.js';
import type { SourceRecord } from '../../../src/pipeline/index.js';

const record = (offset: number): SourceRecord => ({ topic: 't', partition: 0, offset: String(offset), timestamp: '0', key: null, value: Buffer.from(String(offset)), headers: {} });
const offsets = async (it: AsyncIterable<SourceRecord>): Promise<number[]> => {
  const out: number[] = [];
  for await (const r of it) out.push(Number(r.offset));
  return out;
};

/** A fetch loop driven by the test: each step pushes what the client would have fetched. */
function scripted(steps: Array<(sink: RangeSink) => Promise<void>>): { open: (sink: RangeSink) => Promise<() => Promise<void>>; closed: () => boolean } {
  let closed = false;
  return {
    open: (sink) => {
      void (async () => {
        for (const step of steps) {
          await new Promise((r) => setImmediate(r));
          await step(sink);
        }
      })();
      return Promise.resolve(() => {
        closed = true;
        return Promise.resolve();
      });
    },
    closed: () => closed,
  };
}

describe('bufferedRange', () => {
  it('yields [start, end) once, in order, dropping records fetched again and those past the end', async () => {
    const loop = scripted([
      (s) => s.push([3, 4, 5].map(record), 6n),
      // A restarted fetch repeats from an older offset: those records are dropped.
      (s) => s.push([2, 3, 4, 5, 6, 7].map(record), 8n),
      (s) => s.push([8, 9, 10, 11].map(record), 12n),
    ]);
    expect(await offsets(bufferedRange(3n, 10n, loop.open))).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(loop.closed()).toBe(true);
  });

  it('ends when the partition was read past the end without a record there (transaction markers)', async () => {
    const loop = scripted([(s) => s.push([0, 1].map(record), 2n), (s) => s.push([], 4n)]);
    expect(await offsets(bufferedRange(0n, 3n, loop.open))).toEqual([0, 1]);
  });

  it('tells a restarted fetch where to resume: the next offset not yet taken', async () => {
    let resumeAt: bigint | undefined;
    const loop = scripted([(s) => s.push([5, 6].map(record), 7n), (s) => Promise.resolve(void (resumeAt = s.next())), (s) => s.push([7].map(record), 8n)]);
    expect(await offsets(bufferedRange(5n, 8n, loop.open))).toEqual([5, 6, 7]);
    expect(resumeAt).toBe(7n);
  });

  it('fails the reader with the fetch loop\'s error', async () => {
    const loop = scripted([(s) => s.push([0].map(record), 1n), (s) => Promise.resolve(s.fail(new Error('broker gone')))]);
    await expect(offsets(bufferedRange(0n, 5n, loop.open))).rejects.toThrow('broker gone');
    expect(loop.closed()).toBe(true);
  });

  it('holds the fetch loop while the reader is 10,000 records behind', async () => {
    let pushed = 0;
    let released = false;
    const many = Array.from({ length: 12_000 }, (_, i) => record(i));
    const it = bufferedRange(0n, 12_001n, (sink) => {
      void sink.push(many, 12_000n).then(() => {
        released = true;
      });
      pushed = many.length;
      return Promise.resolve(() => Promise.resolve());
    })[Symbol.asyncIterator]();
    await it.next();
    await new Promise((r) => setImmediate(r));
    expect(pushed).toBe(12_000);
    expect(released).toBe(false);
    for (let i = 0; i < 7_000; i++) await it.next();
    await new Promise((r) => setImmediate(r));
    expect(released).toBe(true);
    await it.return?.(undefined);
  });
});
