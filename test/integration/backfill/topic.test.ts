import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runBackfill } from '../../../src/backfill/index.js';
import { createDecoder } from '../../../src/codec/index.js';
import { ScoringEngine } from '../../../src/inference/index.js';
import { loadReadyBundle } from '../../../src/registry/index.js';
import { createTestTopic, testAdmin, testKafka, testPort } from '../../helpers/kafka.js';
import { readLedger, sampleEvents } from '../../helpers/ledger.js';

const BUNDLE = fileURLToPath(new URL('../../../models/opportunity-scorer/1.0.0', import.meta.url));

describe('backfill from and to topics', () => {
  it('selects records by time per partition, in partition order, and writes results keyed by id', async () => {
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const input = await createTestTopic(admin, 3, 'history');
    const output = await createTestTopic(admin, 3, 'rescored');
    const events = sampleEvents(300, 'hist');
    const t0 = Date.UTC(2026, 0, 1);
    const producer = kafka.producer();
    await producer.connect();
    // Record timestamps t0 + i s; keys spread the events over the three partitions.
    await producer.send({ topic: input, messages: events.map((e, i) => ({ key: e.id, value: JSON.stringify(e), timestamp: String(t0 + i * 1000) })) });
    await producer.disconnect();

    const bundle = await loadReadyBundle(BUNDLE);
    const engine = new ScoringEngine(bundle, { maxSize: 64, maxDelayMs: 0, queueMax: 256 });
    onTestFinished(async () => {
      await engine.close();
      await bundle.close();
    });
    const dir = mkdtempSync(join(tmpdir(), 'backfill-'));
    const common = { engine, decoder: createDecoder('auto', undefined), chunkSize: 64, scoredAt: 'event' as const, rejectsPath: join(dir, 'rejects.jsonl') };
    const port = testPort();
    const source = { kind: 'topic' as const, kafka: port, topic: input, fromMs: t0 + 100_000, toMs: t0 + 200_000 };
    const toFile = await runBackfill({ ...common, source, sink: { kind: 'file', path: join(dir, 'out.jsonl') } });
    expect(toFile).toMatchObject({ completed: true, scored: 100, rejected: 0 });
    const rows = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; source: { partition: number; offset: number } });
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(events.slice(100, 200).map((e) => e.id)));
    const order = rows.map((r) => [r.source.partition, r.source.offset] as const);
    expect(order).toEqual([...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]));

    const again = await runBackfill({ ...common, source: { ...source, partitions: [1] }, sink: { kind: 'topic', kafka: port, topic: output } });
    const onePartition = rows.filter((r) => r.source.partition === 1);
    expect(again.scored).toBe(onePartition.length);
    const written = await readLedger(kafka, [output], (es) => es.length >= onePartition.length, 30_000, 500);
    expect(written.map((w) => w.id).sort()).toEqual(onePartition.map((r) => r.id).sort());
  });
});
