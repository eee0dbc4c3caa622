import type { Admin } from 'kafkajs';
import { onTestFinished } from 'vitest';
import { ScorerService } from '../../src/service/index.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logging/index.js';
import { KafkaWorker, type WorkerOptions } from '../../src/ingest/index.js';
import { clientEnv, createTopics, testBrokers, testPort, uniqueName } from './kafka.js';

export interface Topics {
  readonly input: string;
  readonly output: string;
  readonly dlq: string;
  readonly group: string;
  /** Environment for a worker on these topics. */
  readonly env: Record<string, string>;
}

/** Fresh input/output/dead-letter topics and a group name, deleted when the test finishes. */
export async function workerTopics(admin: Admin, partitions = 4): Promise<Topics> {
  const input = uniqueName('in');
  const output = uniqueName('out');
  const dlq = uniqueName('dlq');
  await createTopics(admin, [input, output, dlq], partitions);
  onTestFinished(async () => {
    await admin.deleteTopics({ topics: [input, output, dlq] }).catch(() => undefined);
  });
  const group = uniqueName('group');
  return {
    input,
    output,
    dlq,
    group,
    // A short session: a killed worker's partitions move on in seconds rather than 30 s.
    env: { KAFKA_BROKERS: testBrokers().join(','), INPUT_TOPICS: input, OUTPUT_TOPIC: output, DLQ_TOPIC: dlq, CONSUMER_GROUP: group, CONSUMER_SESSION_TIMEOUT_MS: '8000' },
  };
}

/** The whole service in this process (real broker, real models), closed when the test finishes. */
export async function startInProcess(env: Record<string, string>): Promise<ScorerService> {
  const config = loadConfig({ env: { LOG_LEVEL: 'warn', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', ...clientEnv(), ...env } });
  const service = await ScorerService.start({ config, logger: createLogger({ level: config.log.level, pretty: false }), version: 'test', mode: 'run' });
  onTestFinished(() => service.close());
  return service;
}

/**
 * A KafkaWorker on `topics` over the client under test, for tests that drive the Kafka loop with a processor of their
 * own: one partition at a time, from the beginning, a short session and quick retries, unless `options` says otherwise.
 */
export function testWorker(topics: Topics, options: Pick<WorkerOptions, 'delivery' | 'process'> & Partial<WorkerOptions>): KafkaWorker {
  return new KafkaWorker({
    kafka: testPort(),
    groupId: topics.group,
    inputTopics: [topics.input],
    outputTopic: topics.output,
    deadLetterTopic: topics.dlq,
    chunkSize: 64,
    partitionsConsumedConcurrently: 1,
    fromBeginning: true,
    sessionTimeoutMs: 8_000,
    logger: createLogger({ level: 'silent', pretty: false }),
    retry: { initialMs: 10, maxMs: 20 },
    ...options,
  });
}
