import { describe, expect, it } from 'vitest';
import { opportunityType } from '../../../src/contract/index.js';
import { testAdmin, testKafka } from '../../helpers/kafka.js';
import { aged, ledgerReport, produceJson, readLedger, sampleEvents } from '../../helpers/ledger.js';
import { startInProcess, workerTopics } from '../../helpers/service.js';

describe('poison events', () => {
  it('1 % poison (garbage bytes, schema-invalid, stale) all reach the DLQ with the right reason; the rest are scored', async () => {
    const kafka = testKafka();
    const topics = await workerTopics(await testAdmin(kafka));
    const good = sampleEvents(3_000, 'good', { fresh: true });
    const stale = sampleEvents(10, 'stale', { fresh: true }).map((e) => aged(e, 48));
    const invalid = sampleEvents(10, 'invalid', { fresh: true }).map((e) => ({ ...e, longFundingIntervalHours: 0, fundApr: 'lots' }));
    const garbage = Array.from({ length: 10 }, (_, i) => ({ key: `garbage-${i}`, value: Buffer.from([0x00, 0x00, 0x00, 0x00, 0x07, i]) }));
    const truncated = opportunityType.toBuffer({ ...good[0], id: 'trunc' }).subarray(0, 20);
    await produceJson(kafka, topics.input, [...good, ...stale, ...invalid], { raw: [...garbage, { key: 'trunc', value: truncated }, { key: 'empty', value: '' }] });
    await startInProcess({ ...topics.env, MAX_EVENT_AGE_MS: String(24 * 3_600_000), STALE_POLICY: 'dead-letter' });

    const expectedDlq = stale.length + invalid.length + garbage.length + 2;
    const entries = await readLedger(kafka, [topics.output, topics.dlq], (es) => es.length >= good.length + expectedDlq);
    const report = ledgerReport(entries, topics.output, good.map((e) => e.id));
    expect(report.missing).toEqual([]);

    const dlq = entries.filter((e) => e.topic === topics.dlq);
    expect(dlq).toHaveLength(expectedDlq);
    const reasonOf = (id: string): string | undefined => dlq.find((e) => e.id === id)?.headers['dlq-reason'];
    for (const e of stale) expect(reasonOf(String(e.id))).toBe('STALE_EVENT');
    for (const e of invalid) expect(reasonOf(e.id)).toBe('VALIDATION_FAILED');
    // Framed with schema id 7 but no registry configured: not decodable here.
    expect(dlq.filter((e) => e.value.length === 6).map((e) => e.headers['dlq-reason'])).toEqual(Array(10).fill('SCHEMA_UNKNOWN'));
    // Truncated Avro and an empty value carry no JSON id: the ledger knows them by their keys.
    expect(dlq.filter((e) => e.key === 'trunc' || e.key === 'empty').map((e) => [e.id, e.headers['dlq-reason']])).toEqual(
      expect.arrayContaining([['trunc', 'DECODE_FAILED'], ['empty', 'DECODE_FAILED']]),
    );
    // Dead letters keep the original bytes and say where they came from.
    const sample = dlq.find((e) => e.id === invalid[0]?.id);
    expect(JSON.parse(sample?.value.toString() ?? '{}')).toEqual(invalid[0]);
    expect(sample?.headers['dlq-source-topic']).toBe(topics.input);
    expect(sample?.headers['dlq-message']).toContain('longFundingIntervalHours');
  });
});
