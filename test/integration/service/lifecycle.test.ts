import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { findScorerError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logging/index.js';
import type { ProcessedChunk, SourceRecord } from '../../../src/pipeline/index.js';
import { ScorerService } from '../../../src/service/index.js';
import { clientEnv, testAdmin, testKafka } from '../../helpers/kafka.js';
import { produceJson, sampleEvents } from '../../helpers/ledger.js';
import { testWorker, workerTopics } from '../../helpers/service.js';
import { freePort } from '../../helpers/worker.js';
import { until } from '../../helpers/wait.js';

const logger = createLogger({ level: 'silent', pretty: false });

/** Whether this process can listen on the port now (nothing else holds it). */
const portIsFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });


describe('service lifecycle', () => {
  it('a start that fails after the HTTP port is open closes it again and leaves no consumer in the group', async () => {
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const topics = await workerTopics(admin);
    const port = await freePort();
    // The output topic does not exist: the worker's start fails after the sidecar listens (the fault suite's
    // group-access test fails a start at the consumer's join, with the same checks).
    const config = loadConfig({ env: { ...topics.env, ...clientEnv(), OUTPUT_TOPIC: `${topics.output}-missing`, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), LOG_LEVEL: 'silent' } });
    const err = await ScorerService.start({ config, logger, version: 'test', mode: 'run' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(findScorerError(err)?.code).toBe('KAFKA_TOPIC_MISSING');
    expect(await portIsFree(port)).toBe(true);
    const [group] = (await admin.describeGroups([topics.group])).groups;
    expect(group?.members ?? []).toEqual([]);
  });

  it('a TypeError in processing fails the worker at once instead of retrying, and commits nothing', async () => {
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const topics = await workerTopics(admin, 1);
    await produceJson(kafka, topics.input, sampleEvents(20, 'bug', { fresh: true }));
    let calls = 0;
    const worker = testWorker(topics, {
      delivery: 'at-least-once',
      logger,
      process: (_records: readonly SourceRecord[]): Promise<ProcessedChunk> => {
        calls++;
        // A programming error, as a bug in processing would throw it.
        return Promise.reject(new TypeError("Cannot read properties of undefined (reading 'score')"));
      },
    });
    try {
      await worker.start();
      await until('the worker to fail', () => worker.lifecycle.is('failed'), 30_000, 100);
      expect(worker.lifecycle.failure).toMatch(/processing failed: Cannot read properties of undefined/);
      expect(worker.readiness().ready).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 300)); // a retry loop would have called again by now
      expect(calls).toBe(1);
    } finally {
      await worker.stop();
    }
    // It stays failed through the drain, and nothing was committed: a restart scores the 20 events.
    expect(worker.lifecycle.state).toBe('failed');
    const [offsets] = await admin.fetchOffsets({ groupId: topics.group, topics: [topics.input] });
    expect(offsets?.partitions.map((p) => p.offset)).toEqual(['-1']);
  });
});
