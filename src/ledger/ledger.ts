import type { KafkaPort } from '../kafka/index.js';

/** One record of an output or dead-letter topic, reduced to what the ledger needs. */
export interface LedgerEntry {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** The opportunity id: the record key, else the `id` of a JSON value. */
  readonly id: string | undefined;
  readonly key: string | null;
  readonly headers: Record<string, string>;
  readonly value: Buffer;
}

export interface LedgerReport {
  readonly expected: number;
  readonly outputs: number;
  readonly deadLetters: number;
  /** Expected ids found in neither topic. */
  readonly missing: string[];
  /** Expected ids published more than once to the output topic. */
  readonly duplicated: string[];
  /** Expected ids in both the output and the dead-letter topic. */
  readonly inBoth: string[];
}

/**
 * The opportunity id of a record: the `id` of a JSON value (outputs and JSON dead letters), else the record key (the
 * scorer keys outputs by the input key, or by the id when the input had none; Avro values are not parsed here).
 */
export function ledgerId(key: Buffer | null, value: Buffer | null): string | undefined {
  try {
    const id = (JSON.parse(value?.toString() ?? '') as { id?: unknown } | null)?.id;
    if (typeof id === 'string') return id;
  } catch {
    // not JSON: fall back to the key
  }
  return key !== null && key.length > 0 ? key.toString() : undefined;
}

/** For the expected ids: which are missing from both topics, which appear more than once, which are in both. */
export function ledgerReport(entries: readonly LedgerEntry[], outputTopic: string, expected: readonly string[]): LedgerReport {
  const out = new Map<string, number>();
  const dlq = new Set<string>();
  let outputs = 0;
  let deadLetters = 0;
  for (const e of entries) {
    if (e.topic === outputTopic) {
      outputs++;
      if (e.id !== undefined) out.set(e.id, (out.get(e.id) ?? 0) + 1);
    } else {
      deadLetters++;
      if (e.id !== undefined) dlq.add(e.id);
    }
  }
  return {
    expected: expected.length,
    outputs,
    deadLetters,
    missing: expected.filter((id) => !out.has(id) && !dlq.has(id)),
    duplicated: expected.filter((id) => (out.get(id) ?? 0) > 1),
    inBoth: expected.filter((id) => out.has(id) && dlq.has(id)),
  };
}

export interface ReadOptions {
  /** Stop waiting for partitions that have not reached their end after this long without a record. */
  readonly idleMs?: number;
  readonly timeoutMs?: number;
  /** Keep reading until this holds (or the timeout), e.g. until every expected id has arrived. */
  readonly until?: (entries: readonly LedgerEntry[]) => boolean;
}

/**
 * Reads topics from the beginning to their current end as an independent consumer with `read_committed`, so
 * records of aborted transactions never count. It commits nothing. The end is each partition's high watermark when
 * the read starts; transaction markers occupy offsets no record reaches, so a partition also counts as done once
 * it has been idle for `idleMs`.
 */
export async function readTopics(kafka: KafkaPort, topics: readonly string[], options: ReadOptions = {}): Promise<LedgerEntry[]> {
  const idleMs = options.idleMs ?? 2_000;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const admin = await kafka.admin();
  const remaining = new Map<string, bigint>();
  try {
    for (const topic of topics) {
      for (const p of await admin.offsets(topic)) if (p.high > p.low) remaining.set(`${topic}:${p.partition}`, p.high - 1n);
    }
  } finally {
    await admin.close();
  }
  const entries: LedgerEntry[] = [];
  let lastRecordAt = Date.now();
  let joinedAt: number | undefined;
  const reader = await kafka.tail(topics, (r) => {
    lastRecordAt = Date.now();
    const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(Array.isArray(v) ? (v as unknown[])[0] : v)]));
    entries.push({ topic: r.topic, partition: r.partition, offset: r.offset, id: ledgerId(r.key, r.value), key: r.key === null ? null : r.key.toString(), headers, value: r.value ?? Buffer.alloc(0) });
    const end = remaining.get(`${r.topic}:${r.partition}`);
    if (end !== undefined && BigInt(r.offset) >= end) remaining.delete(`${r.topic}:${r.partition}`);
  });
  try {
    // Idleness counts from the group join: joining takes seconds, and no record can arrive before it.
    const idle = (): boolean => {
      if (!reader.joined) return false;
      joinedAt ??= Date.now();
      return Date.now() - Math.max(lastRecordAt, joinedAt) > idleMs;
    };
    const done = (): boolean => (options.until !== undefined ? options.until(entries) && idle() : remaining.size === 0 || idle());
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return [...entries];
  } finally {
    await reader.close();
  }
}
