import type { SourceRecord } from '../pipeline/index.js';
import { ScorerError } from '../errors.js';

/** Records fetched ahead of the reader before the fetching side waits. */
const MAX_BUFFERED = 10_000;

/** What an adapter's fetch loop writes into while reading one partition range. */
export interface RangeSink {
  /**
   * Adds fetched records (those below the next offset not yet taken, or at or past the end, are dropped) and
   * notes that the partition was read up to `readTo` (exclusive; transaction markers make it larger than the last
   * record's offset + 1). Resolves when the reader has room again.
   */
  push(records: readonly SourceRecord[], readTo: bigint): Promise<void>;
  fail(error: Error): void;
  /** The next offset not yet taken (where a restarted fetch must resume). */
  next(): bigint;
}

/**
 * Offsets [start, end) of one partition as an async iterable, fed by an adapter's fetch loop: `open` starts
 * fetching into the sink and returns how to stop it. The shared part of both adapters' range reads.
 */
export async function* bufferedRange(start: bigint, end: bigint, open: (sink: RangeSink) => Promise<() => Promise<void>>): AsyncGenerator<SourceRecord> {
  if (end <= start) return;
  const buffer: SourceRecord[] = [];
  let next = start;
  let readTo = start;
  let failure: Error | undefined;
  let wakeReader: (() => void) | undefined;
  let wakeFetcher: (() => void) | undefined;
  const notify = (): void => {
    wakeReader?.();
    wakeReader = undefined;
  };
  const done = (): boolean => readTo >= end;
  const sink: RangeSink = {
    push: async (records, to) => {
      for (const r of records) {
        const offset = BigInt(r.offset);
        if (offset < next || offset >= end) continue;
        buffer.push(r);
        next = offset + 1n;
      }
      if (to > readTo) readTo = to;
      notify();
      while (buffer.length > MAX_BUFFERED && !done() && failure === undefined) {
        await new Promise<void>((resolve) => {
          wakeFetcher = resolve;
        });
      }
    },
    fail: (error) => {
      failure ??= error;
      notify();
    },
    next: () => next,
  };
  const close = await open(sink);
  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      const record = buffer.shift();
      if (record !== undefined) {
        if (buffer.length <= MAX_BUFFERED / 2) {
          wakeFetcher?.();
          wakeFetcher = undefined;
        }
        yield record;
        continue;
      }
      if (done()) return;
      await new Promise<void>((resolve) => {
        wakeReader = resolve;
        setTimeout(resolve, 200);
      });
    }
  } finally {
    failure ??= new ScorerError('SHUTTING_DOWN', 'range reader closed');
    wakeFetcher?.();
    await close();
  }
}
