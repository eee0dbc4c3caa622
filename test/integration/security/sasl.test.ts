import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { hasCode } from '../../../src/errors.js';
import { createKafka, ensureTopics, requireTopics } from '../../../src/kafka/index.js';
import { createLogger } from '../../../src/logging/index.js';
import { SASL_PASSWORD, SASL_USER, testSaslBrokers, uniqueName } from '../../helpers/kafka.js';
import { spawnWorker } from '../../helpers/worker.js';

describe('Kafka SASL', () => {
  it.each(['plain', 'scram-sha-256', 'scram-sha-512'])('the service authenticates with %s and produces and consumes', async (mechanism) => {
    const config = loadConfig({ env: { KAFKA_BROKERS: testSaslBrokers(), KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: SASL_USER, KAFKA_SASL_PASSWORD: SASL_PASSWORD, LOG_LEVEL: 'silent' } });
    const kafka = createKafka(config.kafka, createLogger({ level: 'silent', pretty: false }));
    const admin = kafka.admin();
    await admin.connect();
    const topic = uniqueName('sasl');
    try {
      await ensureTopics(admin, [{ topic, partitions: 1 }]);
      await requireTopics(admin, [topic]);
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic, messages: [{ value: mechanism }] });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: uniqueName('sasl-group') });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const got = await new Promise<string>((resolve) => {
        void consumer.run({ eachMessage: ({ message }) => Promise.resolve(resolve(message.value?.toString() ?? '')) });
      });
      await consumer.disconnect();
      expect(got).toBe(mechanism);
    } finally {
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('refuses a wrong password', async () => {
    const config = loadConfig({ env: { KAFKA_BROKERS: testSaslBrokers(), KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: SASL_USER, KAFKA_SASL_PASSWORD: 'not-the-password' } });
    const admin = createKafka(config.kafka, createLogger({ level: 'silent', pretty: false })).admin({ retry: { retries: 0 } });
    const failure = await requireTopics(admin, ['x']).catch((err: unknown) => err);
    expect(hasCode(failure, 'KAFKA_UNAVAILABLE')).toBe(true);
    await admin.disconnect();
  });

  it('a worker running over SASL at debug level never writes the password to its log', async () => {
    const config = { KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: SASL_USER, KAFKA_SASL_PASSWORD: SASL_PASSWORD };
    const brokers = testSaslBrokers();
    const kafka = createKafka(loadConfig({ env: { KAFKA_BROKERS: brokers, ...config } }).kafka, createLogger({ level: 'silent', pretty: false }));
    const admin = kafka.admin();
    await admin.connect();
    const [input, output, dlq] = [uniqueName('in'), uniqueName('out'), uniqueName('dlq')];
    await ensureTopics(admin, [input, output, dlq].map((topic) => ({ topic, partitions: 1 })));
    await admin.disconnect();
    const worker = await spawnWorker({ KAFKA_BROKERS: brokers, ...config, INPUT_TOPICS: input, OUTPUT_TOPIC: output, DLQ_TOPIC: dlq, CONSUMER_GROUP: uniqueName('g'), LOG_LEVEL: 'debug' });
    await worker.waitReady();
    worker.signal('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.logs().length).toBeGreaterThan(1000);
    expect(worker.logs()).not.toContain(SASL_PASSWORD);
  });
});
