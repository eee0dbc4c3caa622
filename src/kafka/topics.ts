import type { Admin } from 'kafkajs';
import { ScorerError } from '../errors.js';

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly config?: Readonly<Record<string, string>>;
}

/** Creates the topics that do not exist yet; returns the names it created. Existing topics are left as they are. */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<string[]> {
  let existing: Set<string>;
  try {
    existing = new Set(await admin.listTopics());
  } catch (cause) {
    throw new ScorerError('KAFKA_UNAVAILABLE', 'could not list topics', { cause });
  }
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: -1, // broker default: works on one node and on a cluster
        configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  } catch (cause) {
    throw new ScorerError('KAFKA_ADMIN_FAILED', `could not create topics ${missing.map((s) => s.topic).join(', ')}`, { cause });
  }
  return missing.map((s) => s.topic);
}

/** Fails with KAFKA_TOPIC_MISSING naming every configured topic the cluster does not have. */
export async function requireTopics(admin: Admin, topics: readonly string[]): Promise<void> {
  let existing: Set<string>;
  try {
    existing = new Set(await admin.listTopics());
  } catch (cause) {
    throw new ScorerError('KAFKA_UNAVAILABLE', 'could not list topics', { cause });
  }
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    throw new ScorerError(
      'KAFKA_TOPIC_MISSING',
      `missing topic${missing.length === 1 ? '' : 's'}: ${missing.join(', ')} (create with \`opportunity-scorer topics create\`)`,
      { details: { missing } },
    );
  }
}
