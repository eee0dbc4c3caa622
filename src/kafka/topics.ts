import { ScorerError } from '../errors.js';
import type { KafkaAdmin, TopicSpec } from './port.js';

/** Creates the topics that do not exist yet; returns the names it created. Existing topics are left as they are. */
export async function ensureTopics(admin: KafkaAdmin, specs: readonly TopicSpec[]): Promise<string[]> {
  let existing: Set<string>;
  try {
    existing = new Set(await admin.listTopics());
  } catch (cause) {
    throw new ScorerError('KAFKA_UNAVAILABLE', 'could not list topics', { cause });
  }
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics(missing);
  } catch (cause) {
    throw new ScorerError('KAFKA_ADMIN_FAILED', `could not create topics ${missing.map((s) => s.topic).join(', ')}`, { cause });
  }
  return missing.map((s) => s.topic);
}

/** Fails with KAFKA_TOPIC_MISSING naming every configured topic the cluster does not have. */
export async function requireTopics(admin: KafkaAdmin, topics: readonly string[]): Promise<void> {
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

/**
 * Waits until every partition of `topics` has a leader. Right after a topic is created the broker's metadata may not
 * know it yet (UNKNOWN_TOPIC_OR_PARTITION) as well as show it without leaders: both mean "not yet", so a read that
 * fails is tried again until the deadline (kafkajs's own wait gave up on the first, and failed test set-ups under
 * load with "This server does not host this topic-partition").
 */
export async function untilLeaders(topics: readonly string[], haveLeaders: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await haveLeaders().catch(() => false)) return;
    if (Date.now() > deadline) throw new ScorerError('KAFKA_UNAVAILABLE', `no leader for the partitions of ${topics.join(', ')} after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
