// Exits 0 once the broker is usable: it answers a metadata request (kafkajs describeCluster) and can create a topic,
// lead its partition and delete it again; 1 otherwise. A broker that answers metadata but still refuses new
// topic-partitions for a moment ("This server does not host this topic-partition") made the first tests of a run fail.
// Usage: node probe.mjs <host:port>
import { Kafka, logLevel } from 'kafkajs';

const broker = process.argv[2] ?? '127.0.0.1:9092';
const admin = new Kafka({ clientId: 'kafka-probe', brokers: [broker], logLevel: logLevel.NOTHING, connectionTimeout: 1000, retry: { retries: 0 } }).admin();
const topic = `__opportunity-scorer-probe-${process.pid}-${Date.now()}`;
try {
  await admin.connect();
  const cluster = await admin.describeCluster();
  if (cluster.brokers.length === 0) process.exit(1);
  await admin.createTopics({ waitForLeaders: true, timeout: 5000, topics: [{ topic, numPartitions: 1 }] });
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const led = metadata.topics[0]?.partitions.every((p) => p.leader >= 0) === true;
  await admin.deleteTopics({ topics: [topic], timeout: 5000 }).catch(() => undefined);
  await admin.disconnect();
  process.exit(led ? 0 : 1);
} catch {
  await admin.deleteTopics({ topics: [topic], timeout: 5000 }).catch(() => undefined);
  process.exit(1);
}
