import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { hasCode } from '../../../src/errors.js';
import { createKafkaPort, ensureTopics, requireTopics } from '../../../src/kafka/index.js';
import { createLogger } from '../../../src/logging/index.js';
import { clientEnv, SASL_PASSWORD, SASL_USER, testSaslBrokers, uniqueName } from '../../helpers/kafka.js';
import { spawnWorker } from '../../helpers/worker.js';

describe('Kafka SASL', () => {
  it.each(['plain', 'scram-sha-256', 'scram-sha-512'])('the service authenticates with %s and produces and consumes', async (mechanism) => {
    const config = loadConfig({ env: { KAFKA_BROKERS: testSaslBrokers(), KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: SASL_USER, KAFKA_SASL_PASSWORD: SASL_PASSWORD, LOG_LEVEL: 'silent', ...clientEnv() } });
    const kafka = createKafkaPort(config.kafka, createLogger({ level: 'silent', pretty: false }));
    const admin = await kafka.admin();
    const topic = uniqueName('sasl');
    try {
      await ensureTopics(admin, [{ topic, partitions: 1 }]);
      await requireTopics(admin, [topic]);
      const producer = await kafka.producer();
      await producer.send([{ topic, key: null, value: Buffer.from(mechanism), headers: {} }]);
      await producer.close();
      const got: string[] = [];
      for await (const r of kafka.readRange(topic, 0, 0n, 1n)) got.push(r.value?.toString() ?? '');
      expect(got).toEqual([mechanism]);
    } finally {
      await admin.close();
    }
  });

  it('refuses a wrong password', async () => {
    const config = loadConfig({ env: { KAFKA_BROKERS: testSaslBrokers(), KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: SASL_USER, KAFKA_SASL_PASSWORD: 'not-the-password', ...clientEnv() } });
    const kafka = createKafkaPort(config.kafka, createLogger({ level: 'silent', pretty: false }));
    const failure = await kafka.admin().then(async (admin) => requireTopics(admin, ['x']).finally(() => admin.close())).catch((err: unknown) => err);
    expect(hasCode(failure, 'KAFKA_UNAVAILABLE')).toBe(true);
  });

  it('a worker running over SASL at debug level never writes the password to its log', async () => {
    const config = { KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: SASL_USER, KAFKA_SASL_PASSWORD: SASL_PASSWORD };
    const brokers = testSaslBrokers();
    const kafka = createKafkaPort(loadConfig({ env: { KAFKA_BROKERS: brokers, ...config, ...clientEnv() } }).kafka, createLogger({ level: 'silent', pretty: false }));
    const admin = await kafka.admin();
    const [input, output, dlq] = [uniqueName('in'), uniqueName('out'), uniqueName('dlq')];
    await ensureTopics(admin, [input, output, dlq].map((topic) => ({ topic, partitions: 1 })));
    await admin.close();
    const worker = await spawnWorker({ KAFKA_BROKERS: brokers, ...config, INPUT_TOPICS: input, OUTPUT_TOPIC: output, DLQ_TOPIC: dlq, CONSUMER_GROUP: uniqueName('g'), LOG_LEVEL: 'debug' });
    await worker.waitReady();
    worker.signal('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.logs().length).toBeGreaterThan(1000);
    expect(worker.logs()).not.toContain(SASL_PASSWORD);
  });
});
