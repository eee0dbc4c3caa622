// Exits 0 once the broker answers a metadata request (kafkajs describeCluster), 1 otherwise.
// Usage: node probe.mjs <host:port>
import { Kafka, logLevel } from 'kafkajs';

const broker = process.argv[2] ?? '127.0.0.1:9092';
const admin = new Kafka({ clientId: 'kafka-probe', brokers: [broker], logLevel: logLevel.NOTHING, connectionTimeout: 1000, retry: { retries: 0 } }).admin();
try {
  await admin.connect();
  const cluster = await admin.describeCluster();
  await admin.disconnect();
  process.exit(cluster.brokers.length > 0 ? 0 : 1);
} catch {
  process.exit(1);
}
