import { readFileSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import { type LedgerEntry, readTopics } from '../../src/ledger/index.js';
import { kafkaJsPort } from './kafka.js';

export { type LedgerEntry, type LedgerReport, ledgerReport } from '../../src/ledger/index.js';

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

/**
 * The product's ledger reader (`opportunity-scorer ledger`): the output and dead-letter topics read as an
 * independent read_committed consumer, until `until(entries)` holds and nothing new arrived for `settleMs`.
 */
export function readLedger(
  kafka: Kafka,
  topics: readonly string[],
  until: (entries: readonly LedgerEntry[]) => boolean,
  timeoutMs = 60_000,
  settleMs = 1_500,
): Promise<LedgerEntry[]> {
  return readTopics(kafkaJsPort(kafka), topics, { until, timeoutMs, idleMs: settleMs });
}
