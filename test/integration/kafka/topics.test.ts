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

  // The platformatic adapter once asked for each topic with an empty partition list and got nothing back, so lag,
  // the monitor's rebuild and exactly-once settling saw no committed offsets at all.
  it("reads a group's committed offsets per partition, for the topics asked only, and none for a group that has none", async () => {
    const admin = await testPort().admin();
    const kafkajs = await testAdmin();
    const [a, b, group] = [uniqueName('in'), uniqueName('other'), uniqueName('group')];
    try {
      await ensureTopics(admin, [{ topic: a, partitions: 2 }, { topic: b, partitions: 1 }]);
      await kafkajs.setOffsets({ groupId: group, topic: a, partitions: [{ partition: 0, offset: '7' }, { partition: 1, offset: '3' }] });
      await kafkajs.setOffsets({ groupId: group, topic: b, partitions: [{ partition: 0, offset: '2' }] });
      const committed = await admin.committed(group, [a]);
      expect([...committed.keys()]).toEqual([a]);
      expect(committed.get(a)).toEqual(new Map([[0, 7n], [1, 3n]]));
      expect((await admin.committed(uniqueName('no-group'), [a])).get(a)).toEqual(new Map());
    } finally {
      await kafkajs.deleteTopics({ topics: [a, b] }).catch(() => undefined);
      await admin.close();
    }
  });
});
