import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { inject, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createKafkaPort, type GroupConsumerOptions, type KafkaPort } from '../../src/kafka/index.js';
import { KafkaJsPort, kafkaJsAdmin } from '../../src/kafka/kafkajs/adapter.js';
import { createLogger } from '../../src/logging/index.js';

/** The broker the global setup found (KAFKA_BROKERS, testcontainers or the local JVM broker). */
export function testBrokers(): string[] {
  return inject('kafkaBrokers').split(',');
}

/** The SASL user of the local broker (PLAIN and SCRAM); held to ACLs, so tests can take access away from it. */
export const SASL_USER = 'scorer';
export const SASL_PASSWORD = 'scorer-secret';

/** The SASL_PLAINTEXT listener the global setup found; fails with how to provide one when there is none. */
export function testSaslBrokers(): string {
  const brokers = inject('kafkaSaslBrokers');
  if (brokers === '') {
    throw new Error(`No SASL listener: the local JVM broker provides one (with ACLs); with KAFKA_BROKERS or Docker set KAFKA_SASL_BROKERS (user ${SASL_USER} / ${SASL_PASSWORD}, PLAIN and SCRAM, an authorizer on).`);
  }
  return brokers;
}

/** A fresh name per call, so tests never share topics or groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}

/**
 * The Kafka client the code under test uses: KAFKA_CLIENT of the test run (the suite runs once per client), else
 * the default. Workers and services started by tests get it through this environment.
 */
export function clientEnv(): Record<string, string> {
  const client = process.env.KAFKA_CLIENT;
  return client === undefined || client === '' ? {} : { KAFKA_CLIENT: client };
}

/** The project's Kafka port over the client under test, on the test broker. */
export function testPort(env: Record<string, string> = {}): KafkaPort {
  const config = loadConfig({ env: { KAFKA_BROKERS: testBrokers().join(','), LOG_LEVEL: 'silent', ...clientEnv(), ...env } });
  return createKafkaPort(config.kafka, createLogger({ level: 'silent', pretty: false }));
}

/** Group consumer options for a test that reads `topics` from the beginning: short timeouts, small fetches. */
export function testGroupOptions(groupId: string, topics: readonly string[], options: Partial<GroupConsumerOptions> = {}): GroupConsumerOptions {
  return {
    groupId,
    topics,
    fromBeginning: true,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 60_000,
    heartbeatIntervalMs: 1_000,
    maxWaitMs: 100,
    maxBytes: 10 << 20,
    maxBytesPerPartition: 1 << 20,
    concurrency: 1,
    commits: { intervalMs: 0 },
    ...options,
  };
}

/** The port over a given kafkajs client: the independent reader tests check results with. */
export function kafkaJsPort(kafka: Kafka): KafkaPort {
  return new KafkaJsPort(kafka);
}

export function testKafka(clientId = uniqueName('test')): Kafka {
  return new Kafka({ clientId, brokers: testBrokers(), logLevel: logLevel.NOTHING });
}

/** A connected admin client, disconnected when the test finishes. */
export async function testAdmin(kafka: Kafka = testKafka()): Promise<Admin> {
  const admin = kafka.admin();
  await admin.connect();
  onTestFinished(async () => {
    await admin.disconnect();
  });
  return admin;
}

/** Creates topics as the service does: through the port's kafkajs admin, which waits until every partition has a leader. */
export function createTopics(admin: Admin, topics: readonly string[], partitions: number): Promise<void> {
  return kafkaJsAdmin(admin).createTopics(topics.map((topic) => ({ topic, partitions })));
}

/** Creates a topic with a unique name and deletes it when the test finishes. */
export async function createTestTopic(admin: Admin, partitions = 1, prefix = 'topic'): Promise<string> {
  const topic = uniqueName(prefix);
  await createTopics(admin, [topic], partitions);
  onTestFinished(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  });
  return topic;
}
