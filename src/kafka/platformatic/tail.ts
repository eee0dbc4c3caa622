import { FetchIsolationLevels, MessagesStreamFallbackModes, MessagesStreamModes } from '@platformatic/kafka';
import type { Logger } from '../../logging/index.js';
import type { SourceRecord } from '../../pipeline/index.js';
import type * as port from '../port.js';
import { type BufferConsumer, type BufferStream, type Msg, toSourceRecord } from './records.js';

export interface TailOptions {
  /** A fetch loop that has completed no fetch for this long has stopped (it long-polls every `maxWaitTime`). */
  readonly stallMs: number;
  /** How often the loop is checked. */
  readonly checkEveryMs: number;
}

export const DEFAULT_TAIL_OPTIONS: TailOptions = { stallMs: 30_000, checkEveryMs: 5_000 };

/**
 * Every record of some topics from the beginning, read_committed, for as long as it runs (the monitor's live window).
 *
 * A watchdog stands beside @platformatic/kafka's messages stream. The stream's fetch loop restarts itself from a
 * dozen paths (a fetch's reply, a resume, a group join's offset refresh), and some of them end it without an error,
 * e.g. an offset refresh that fails after a rejoin. A stopped loop looks like a quiet topic. A healthy stream
 * completes a fetch at least every `maxWaitTime` (100 ms here), empty or not. When none completes for `stallMs`, the
 * reader logs a warning and opens a new consumer where this one stopped: after the last record it delivered, or the
 * stream's next fetch position when nothing fetched is waiting undelivered (so transaction markers are not read
 * again). No record is lost or delivered twice by a reopen.
 */
export class PlatformaticTail implements port.TailReader {
  readonly joined = true;
  readonly #topics: readonly string[];
  readonly #onRecord: (record: SourceRecord) => void;
  readonly #consumer: () => BufferConsumer;
  readonly #log: Logger;
  readonly #options: TailOptions;
  /** Next offset to deliver per `topic:partition` (after the last delivered record). */
  readonly #delivered = new Map<string, { topic: string; partition: number; offset: bigint }>();
  #current: { consumer: BufferConsumer; stream: BufferStream } | undefined;
  #lastFetchAt = Date.now();
  #reopening: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #reopens = 0;

  private constructor(topics: readonly string[], onRecord: (record: SourceRecord) => void, consumer: () => BufferConsumer, log: Logger, options: TailOptions) {
    this.#topics = topics;
    this.#onRecord = onRecord;
    this.#consumer = consumer;
    this.#log = log;
    this.#options = options;
  }

  /** `consumer` makes a fresh read_committed consumer (a group of its own) for each opening. */
  static async open(topics: readonly string[], onRecord: (record: SourceRecord) => void, consumer: () => BufferConsumer, log: Logger, options: TailOptions = DEFAULT_TAIL_OPTIONS): Promise<PlatformaticTail> {
    const tail = new PlatformaticTail(topics, onRecord, consumer, log, options);
    await tail.#start();
    tail.#timer = setInterval(() => tail.#check(), options.checkEveryMs);
    tail.#timer.unref();
    return tail;
  }

  /** How many times the reader was opened again. */
  get reopens(): number {
    return this.#reopens;
  }

  /** Closes this consumer and goes on with a new one where it stopped (what the watchdog does; tests call it too). */
  reopen(reason: string): Promise<void> {
    this.#reopening ??= this.#reopen(reason).finally(() => {
      this.#reopening = undefined;
      this.#lastFetchAt = Date.now();
    });
    return this.#reopening;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#reopening?.catch(() => undefined);
    await this.#stop();
  }

  #check(): void {
    if (this.#closed || this.#reopening !== undefined) return;
    const quiet = Date.now() - this.#lastFetchAt;
    if (quiet < this.#options.stallMs) return;
    this.reopen(`no fetch completed for ${quiet} ms`).catch((err: unknown) => {
      // The next check tries again.
      this.#log.warn({ err }, 'the tail reader could not be opened again');
    });
  }

  async #reopen(reason: string): Promise<void> {
    if (this.#closed) return;
    // From here the old stream delivers nothing: what it still holds is read again by the new one. There is none
    // when the last opening failed: then the reader starts after what it delivered.
    const old = this.#current;
    this.#current = undefined;
    const from = new Map(this.#delivered);
    if (old !== undefined && old.stream.readableLength === 0) {
      for (const [key, offset] of old.stream.offsetsToFetch) {
        const [topic, partition] = splitKey(key);
        if (offset > (from.get(key)?.offset ?? -1n)) from.set(key, { topic, partition, offset });
      }
    }
    this.#reopens++;
    this.#log.warn({ reason, reopens: this.#reopens, partitions: from.size }, 'the tail reader stopped fetching: opening it again where it stopped');
    if (old !== undefined) await stopConsumer(old);
    if (this.#closed) return;
    await this.#start([...from.values()]);
  }

  async #start(offsets?: ReadonlyArray<{ topic: string; partition: number; offset: bigint }>): Promise<void> {
    const consumer = this.#consumer();
    let stream: BufferStream;
    try {
      stream = await consumer.consume({
        topics: [...this.#topics],
        // Where it stopped, for the partitions it had read; from the beginning for the others.
        ...(offsets === undefined || offsets.length === 0 ? { mode: MessagesStreamModes.EARLIEST } : { mode: MessagesStreamModes.MANUAL, offsets: [...offsets] }),
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
        autocommit: false,
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      });
    } catch (err) {
      await consumer.close(true).catch(() => undefined);
      throw err;
    }
    const current = { consumer, stream };
    stream.on('data', (m: Msg) => {
      if (this.#current !== current) return;
      this.#delivered.set(`${m.topic}:${m.partition}`, { topic: m.topic, partition: m.partition, offset: m.offset + 1n });
      this.#onRecord(toSourceRecord(m));
    });
    stream.on('fetch', () => {
      if (this.#current === current) this.#lastFetchAt = Date.now();
    });
    stream.on('error', (err: Error) => {
      if (this.#current !== current) return;
      this.#log.warn({ err }, 'tail reader failed');
      // A destroyed stream fetches no more: the watchdog opens a new one.
    });
    this.#lastFetchAt = Date.now();
    this.#current = current;
    if (this.#closed) await this.#stop();
  }

  async #stop(): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined) await stopConsumer(current);
  }
}

async function stopConsumer({ consumer, stream }: { consumer: BufferConsumer; stream: BufferStream }): Promise<void> {
  await stream.close().catch(() => undefined);
  await consumer.close(true).catch(() => undefined);
}

function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf(':');
  return [key.slice(0, at), Number(key.slice(at + 1))];
}
