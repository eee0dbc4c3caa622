import type { Consumer, Message, MessageToProduce, MessagesStream } from '@platformatic/kafka';
import type { SourceRecord } from '../../pipeline/index.js';
import type * as port from '../port.js';

/** The client's types as this adapter uses them: keys, values and headers as Buffers (no serialisers). */
export type Msg = Message<Buffer, Buffer, Buffer, Buffer>;
export type BufferConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>;
export type BufferStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

const M = 0x5bd1e995;
const SEED = 0x9747b28c;

/**
 * Java's Kafka murmur2 (org.apache.kafka.common.utils.Utils.murmur2) in 32-bit integer arithmetic. The client's own
 * (`compatibilityPartitioner`) gives the same numbers through BigInt, at about 1.4 µs a key against 0.05 here (its
 * BigInts were 2.4 % of the worker's thread at full speed, by profile, before their collection). No maintained
 * package offers it for bytes (npm's murmur2-partitioner hashes strings by UTF-16 code unit and is unmaintained), and
 * test/unit/kafka/platformatic/records.test.ts holds this one to the client's and to Kafka's own test vectors.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    let k = (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= (data[i + 2] as number) << 16;
  if (rest >= 2) h ^= (data[i + 1] as number) << 8;
  if (rest >= 1) h = Math.imul(h ^ (data[i] as number), M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h;
}

/**
 * The Java client's default partitioner for keyed records (a key lands on the same partition whichever client wrote
 * it): the hash's positive bits, which the client reduces modulo the topic's partitions. No key: partition 0, as the
 * client's compatibilityPartitioner.
 */
export function javaCompatiblePartitioner(_message: unknown, key: unknown): number {
  return Buffer.isBuffer(key) ? murmur2(key) & 0x7fffffff : 0;
}

/** Header names and values the worker writes again and again (content type, model bundle and version). */
const headerBytes = new Map<string, Buffer>();
const HEADER_CACHE_MAX = 1024;

function headerBuffer(text: string): Buffer {
  let bytes = headerBytes.get(text);
  if (bytes === undefined) {
    // A full cache starts over: per-event texts (a dead letter's reason) must not grow it without bound.
    if (headerBytes.size >= HEADER_CACHE_MAX) headerBytes.clear();
    bytes = Buffer.from(text);
    headerBytes.set(text, bytes);
  }
  return bytes;
}

/** An outgoing message in the client's form: header texts become bytes once, not once a record. */
export function toProduce(m: port.OutMessage): MessageToProduce<Buffer, Buffer, Buffer, Buffer> {
  const headers = new Map<Buffer, Buffer>();
  for (const [k, v] of Object.entries(m.headers)) {
    // Repeated headers stay repeated on the wire only through kafkajs; here the last value of a list is kept.
    const value = Array.isArray(v) ? (v as ReadonlyArray<Buffer | string>).at(-1) : (v as Buffer | string);
    if (value !== undefined) headers.set(headerBuffer(k), Buffer.isBuffer(value) ? value : headerBuffer(value));
  }
  return {
    topic: m.topic,
    ...(m.key === null ? {} : { key: Buffer.isBuffer(m.key) ? m.key : Buffer.from(m.key) }),
    value: m.value,
    headers,
  };
}

/** A consumed message as the pipeline's source record (offsets and timestamps as strings, headers by name). */
export function toSourceRecord(m: Msg): SourceRecord {
  const headers: Record<string, Buffer | Buffer[]> = {};
  for (const [k, v] of m.headerEntries) {
    const name = k.toString();
    const seen = headers[name];
    headers[name] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v];
  }
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset.toString(),
    timestamp: m.timestamp.toString(),
    key: m.key ?? null,
    value: m.value ?? null,
    headers,
  };
}
