import { describe, expect, it } from 'vitest';
import { hasCode } from '../../../src/errors.js';
import { ensureTopics, requireTopics } from '../../../src/kafka/index.js';
import { testAdmin, testPort, uniqueName } from '../../helpers/kafka.js';

describe('topic management', () => {
  it('creates missing topics once, and reports the ones still missing by name', async () => {
    const admin = await testPort().admin();
    const cleanup = await testAdmin();
    try {
      const [a, b, absent] = [uniqueName('in'), uniqueName('out'), uniqueName('absent')];
      expect(await ensureTopics(admin, [{ topic: a, partitions: 2 }, { topic: b, partitions: 1 }])).toEqual([a, b]);
      expect(await ensureTopics(admin, [{ topic: a, partitions: 2 }])).toEqual([]);
      expect(await admin.partitions(a)).toEqual([0, 1]);

      await expect(requireTopics(admin, [a, b])).resolves.toBeUndefined();
      const failure = await requireTopics(admin, [a, absent]).catch((err: unknown) => err);
      expect(hasCode(failure, 'KAFKA_TOPIC_MISSING')).toBe(true);
      expect(String(failure)).toContain(absent);
      await cleanup.deleteTopics({ topics: [a, b] });
    } finally {
      await admin.close();
    }
  });
});
