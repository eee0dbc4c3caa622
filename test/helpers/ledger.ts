import { readFileSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import { uniqueName } from './kafka.js';

const SAMPLE = new URL('../../samples/opportunities.jsonl', import.meta.url);
const HOUR = 3_600_000;

/** `n` valid events built from the committed sample with ids `<prefix>-<i>`; `fresh` moves them to now. */
export function sampleEvents(n: number, prefix: string, options: { fresh?: boolean } = {}): Array<Record<string, unknown> & { id: string }> {
  const lines = readFileSync(SAMPLE, 'utf8').trim().split('\n');
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const e = JSON.parse(lines[i % lines.length] as string) as Record<string, number | string | null>;
    const out: Record<string, unknown> & { id: string } = { ...e, id: `${prefix}-${i}` };
    if (options.fresh === true) {
      const shift = now - (e.detectedAt as number);
      for (const k of ['detectedAt', 'longNextFundingTime', 'shortNextFundingTime']) out[k] = (e[k] as number) + shift;
    }
    return out;
  });
}

/** A stale copy: detected `hours` ago. */
export function aged(event: Record<string, unknown>, hours: number): Record<string, unknown> {
  const shift = -hours * HOUR;
  return {
    ...event,
    detectedAt: (event.detectedAt as number) + shift,
    longNextFundingTime: (event.longNextFundingTime as number) + shift,
    shortNextFundingTime: (event.shortNextFundingTime as number) + shift,
  };
}

export async function produceJson(kafka: Kafka, topic: string, events: ReadonlyArray<Record<string, unknown>>, options: { batch?: number; raw?: ReadonlyArray<{ key?: string; value: Buffer | string }> } = {}): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const batch = options.batch ?? 1000;
    const messages = [
      ...events.map((e) => ({ key: typeof e.id === 'string' ? e.id : null, value: JSON.stringify(e) })),
      ...(options.raw ?? []).map((r) => ({ key: r.key ?? null, value: r.value })),
    ];
    for (let i = 0; i < messages.length; i += batch) await producer.send({ topic, messages: messages.slice(i, i + batch) });
  } finally {
    await producer.disconnect();
  }
}

export interface LedgerEntry {
  readonly topic: string;
  readonly id: string | undefined;
  readonly headers: Record<string, string>;
  readonly value: Buffer;
  readonly key: string | null;
}

/**
 * An independent reader of the output and dead-letter topics (read_committed), collecting every record until
 * `until(entries)` holds or the timeout passes.
 */
export async function readLedger(
  kafka: Kafka,
  topics: readonly string[],
  until: (entries: readonly LedgerEntry[]) => boolean,
  timeoutMs = 60_000,
  settleMs = 1_500,
): Promise<LedgerEntry[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('ledger'), readUncommitted: false, maxWaitTimeInMs: 100 });
  const entries: LedgerEntry[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ topic, message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)]));
        let id: string | undefined;
        try {
          id = (JSON.parse(message.value?.toString() ?? '') as { id?: string }).id;
        } catch {
          id = undefined;
        }
        entries.push({ topic, id, headers, value: message.value ?? Buffer.alloc(0), key: message.key === null ? null : message.key.toString() });
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (!until(entries) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    // Let anything still in flight (duplicates, late records) arrive before counting.
    await new Promise((r) => setTimeout(r, settleMs));
    return [...entries];
  } finally {
    await consumer.disconnect();
  }
}

export interface LedgerReport {
  readonly missing: string[];
  readonly duplicated: string[];
  readonly inBoth: string[];
  readonly outputs: number;
}

/** For the expected ids: which are missing from both topics, which appear more than once, which are in both. */
export function ledgerReport(entries: readonly LedgerEntry[], outputTopic: string, expected: readonly string[]): LedgerReport {
  const out = new Map<string, number>();
  const dlq = new Set<string>();
  for (const e of entries) {
    if (e.topic === outputTopic) {
      if (e.id !== undefined) out.set(e.id, (out.get(e.id) ?? 0) + 1);
    } else if (e.id !== undefined) dlq.add(e.id);
  }
  return {
    missing: expected.filter((id) => !out.has(id) && !dlq.has(id)),
    duplicated: expected.filter((id) => (out.get(id) ?? 0) > 1),
    inBoth: expected.filter((id) => out.has(id) && dlq.has(id)),
    outputs: [...out.values()].reduce((a, b) => a + b, 0),
  };
}
