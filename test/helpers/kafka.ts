import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { inject, onTestFinished } from 'vitest';

/** The broker the global setup found (KAFKA_BROKERS, testcontainers or the local JVM broker). */
export function testBrokers(): string[] {
  return inject('kafkaBrokers').split(',');
}

/** A fresh name per call, so tests never share topics or groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
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

/** Creates a topic with a unique name and deletes it when the test finishes. */
export async function createTestTopic(admin: Admin, partitions = 1, prefix = 'topic'): Promise<string> {
  const topic = uniqueName(prefix);
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
  onTestFinished(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  });
  return topic;
}
