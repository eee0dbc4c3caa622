/** Header values as Kafka clients carry them. */
export type HeaderValue = Buffer | string | undefined | ReadonlyArray<Buffer | string>;
export type Headers = Readonly<Record<string, HeaderValue>>;

/** An input record from a log (a Kafka topic or a replayed file): bytes plus where it came from. */
export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Record timestamp, epoch ms as a string (Kafka's convention). */
  readonly timestamp: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Headers;
}

/** A record to write. */
export interface OutRecord {
  readonly key: Buffer | string | null;
  readonly value: Buffer;
  readonly headers: Record<string, Buffer | string | Array<Buffer | string>>;
}

export const HEADER = {
  contentType: 'content-type',
  modelBundle: 'model-bundle',
  modelVersion: 'model-version',
  dlqReason: 'dlq-reason',
  dlqMessage: 'dlq-message',
  dlqTopic: 'dlq-source-topic',
  dlqPartition: 'dlq-source-partition',
  dlqOffset: 'dlq-source-offset',
  dlqTime: 'dlq-time',
} as const;

/** Copies headers for an output record, dropping empty values and the ones we set ourselves. */
export function carryHeaders(headers: Headers, drop: ReadonlySet<string>): Record<string, Buffer | string | Array<Buffer | string>> {
  const out: Record<string, Buffer | string | Array<Buffer | string>> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || drop.has(name.toLowerCase())) continue;
    out[name] = Array.isArray(value) ? [...(value as ReadonlyArray<Buffer | string>)] : (value as Buffer | string);
  }
  return out;
}

export function headerText(headers: Headers, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name) continue;
    const first = Array.isArray(v) ? (v as ReadonlyArray<Buffer | string>)[0] : (v as Buffer | string | undefined);
    return first === undefined ? undefined : first.toString();
  }
  return undefined;
}
