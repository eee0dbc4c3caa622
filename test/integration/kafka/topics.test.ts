import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { hasCode } from '../../../src/errors.js';
import { createKafka, ensureTopics, requireTopics } from '../../../src/kafka/index.js';
import { testBrokers, uniqueName } from '../../helpers/kafka.js';

describe('topic management', () => {
  it('creates missing topics once, and reports the ones still missing by name', async () => {
    const config = loadConfig({ env: { KAFKA_BROKERS: testBrokers().join(','), LOG_LEVEL: 'silent' } });
    const admin = createKafka(config.kafka, pino({ level: 'silent' })).admin();
    await admin.connect();
    try {
      const [a, b, absent] = [uniqueName('in'), uniqueName('out'), uniqueName('absent')];
      expect(await ensureTopics(admin, [{ topic: a, partitions: 2 }, { topic: b, partitions: 1 }])).toEqual([a, b]);
      expect(await ensureTopics(admin, [{ topic: a, partitions: 2 }])).toEqual([]);
      const metadata = await admin.fetchTopicMetadata({ topics: [a] });
      expect(metadata.topics[0]?.partitions).toHaveLength(2);

      await expect(requireTopics(admin, [a, b])).resolves.toBeUndefined();
      const failure = await requireTopics(admin, [a, absent]).catch((err: unknown) => err);
      expect(hasCode(failure, 'KAFKA_TOPIC_MISSING')).toBe(true);
      expect(String(failure)).toContain(absent);
      await admin.deleteTopics({ topics: [a, b] });
    } finally {
      await admin.disconnect();
    }
  });
});
