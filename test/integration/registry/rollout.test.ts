import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { promote } from '../../../src/registry/index.js';
import { testAdmin, testKafka, uniqueName } from '../../helpers/kafka.js';
import { ledgerReport, produceJson, readLedger, sampleEvents } from '../../helpers/ledger.js';
import { startInProcess, workerTopics } from '../../helpers/service.js';
import { spawnWorker } from '../../helpers/worker.js';

describe('rollout on the real broker', () => {
  it('the shadow topic receives one result per event, and the output only the serving bundle', async () => {
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const topics = await workerTopics(admin);
    const shadowTopic = uniqueName('shadow');
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: shadowTopic, numPartitions: 2 }] });
    const events = sampleEvents(3_000, 'shadow');
    await produceJson(kafka, topics.input, events);
    const service = await startInProcess({ ...topics.env, SHADOW_MODEL: 'opportunity-scorer@staging', SHADOW_TOPIC: shadowTopic });
    const ids = events.map((e) => e.id);
    const outputs = await readLedger(kafka, [topics.output], (es) => es.length >= ids.length);
    expect(new Set(outputs.map((e) => e.headers['model-version']))).toEqual(new Set(['1.0.0']));
    const shadows = await readLedger(kafka, [shadowTopic], (es) => es.length >= ids.length);
    const report = ledgerReport(shadows, shadowTopic, ids);
    expect(report.missing).toEqual([]);
    expect(report.duplicated).toEqual([]);
    expect(new Set(shadows.map((e) => e.headers['model-version']))).toEqual(new Set(['1.1.0']));
    const shadowCount = (await service.metrics.shadowEvents.get()).values[0]?.value;
    expect(shadowCount).toBe(3_000);
  });

  it('SIGHUP reload under load: nothing lost, results from both versions, each whole', async () => {
    const kafka = testKafka();
    const topics = await workerTopics(await testAdmin(kafka));
    // A private registry folder whose production alias moves mid-stream.
    const dir = mkdtempSync(join(tmpdir(), 'models-'));
    cpSync(fileURLToPath(new URL('../../../models', import.meta.url)), dir, { recursive: true });
    const worker = await spawnWorker({ ...topics.env, MODEL_DIR: dir });
    await worker.waitReady();
    const events = sampleEvents(20_000, 'hup');
    // Events keep flowing while the reload happens: the first half is in flight when the alias moves.
    const firstHalf = produceJson(kafka, topics.input, events.slice(0, 10_000), { batch: 200 });
    await new Promise((r) => setTimeout(r, 500));
    await promote(dir, 'opportunity-scorer', '1.1.0', 'production');
    worker.signal('SIGHUP');
    const deadline = Date.now() + 30_000;
    while (!worker.logs().includes('SIGHUP: models reloaded') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await firstHalf;
    await produceJson(kafka, topics.input, events.slice(10_000), { batch: 500 });
    const ids = events.map((e) => e.id);
    const entries = await readLedger(kafka, [topics.output, topics.dlq], (es) => new Set(es.map((e) => e.id)).size >= ids.length, 90_000);
    expect(ledgerReport(entries, topics.output, ids).missing).toEqual([]);
    expect(new Set(entries.map((e) => e.headers['model-version']))).toEqual(new Set(['1.0.0', '1.1.0']));
    for (const e of entries) {
      const body = JSON.parse(e.value.toString()) as { modelVersion: string; compositeScore: number; successProbability: number; predictedProfitPercent: number };
      expect(body.modelVersion).toBe(e.headers['model-version']);
      expect(body.compositeScore).toBe(body.successProbability * body.predictedProfitPercent);
    }
    expect(worker.logs()).toContain('SIGHUP: models reloaded');
  });
});
