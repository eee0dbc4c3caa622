import { describe, expect, it } from 'vitest';
import { createTopics, testAdmin, testKafka, uniqueName } from '../../helpers/kafka.js';
import { ledgerReport, produceJson, readLedger, sampleEvents } from '../../helpers/ledger.js';
import { startInProcess, workerTopics } from '../../helpers/service.js';

describe('rollout on the real broker', () => {
  it('the shadow topic receives one result per event, and the output only the serving bundle', async () => {
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const topics = await workerTopics(admin);
    const shadowTopic = uniqueName('shadow');
    await createTopics(admin, [shadowTopic], 2);
    const events = sampleEvents(3_000, 'shadow');
    await produceJson(kafka, topics.input, events);
    const service = await startInProcess({ ...topics.env, SHADOW_MODEL: 'opportunity-scorer@staging', SHADOW_TOPIC: shadowTopic });
    const ids = events.map((e) => e.id);
    const outputs = await readLedger(kafka, [topics.output], (es) => es.length >= ids.length);
    expect(new Set(outputs.map((e) => e.headers['model-version']))).toEqual(new Set(['2.0.0']));
    const shadows = await readLedger(kafka, [shadowTopic], (es) => es.length >= ids.length);
    const report = ledgerReport(shadows, shadowTopic, ids);
    expect(report.missing).toEqual([]);
    expect(report.duplicated).toEqual([]);
    expect(new Set(shadows.map((e) => e.headers['model-version']))).toEqual(new Set(['1.1.0']));
    const shadowCount = (await service.metrics.shadowEvents.get()).values[0]?.value;
    expect(shadowCount).toBe(3_000);
  });
});
