// Quick end-to-end throughput through the real broker (the full benchmark suite is `npm run bench`, issue 10):
// preload N JSON events into a fresh topic, start the scorer in this process, and time how long it takes to score
// them all. Reports events/s, process CPU and peak RSS.
//
//   npm run bench:e2e [-- --events 200000 --brokers 127.0.0.1:9092]   (env config keys apply, e.g. BATCH_MAX_SIZE)
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { startService } from '../src/cli/service.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/logging/index.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' }, brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' }, partitions: { type: 'string', default: '4' } } });
const N = Number(values.events);
const tag = Date.now().toString(36);
const topics = { input: `bench-in-${tag}`, output: `bench-out-${tag}`, dlq: `bench-dlq-${tag}` };
const kafka = new Kafka({ clientId: 'bench', brokers: values.brokers.split(','), logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ waitForLeaders: true, topics: Object.values(topics).map((topic) => ({ topic, numPartitions: Number(values.partitions) })) });

const lines = readFileSync(new URL('../samples/opportunities.jsonl', import.meta.url), 'utf8').trim().split('\n');
const producer = kafka.producer();
await producer.connect();
const t0 = performance.now();
for (let i = 0; i < N; i += 2000) {
  const messages = [];
  for (let j = i; j < Math.min(N, i + 2000); j++) {
    const e = JSON.parse(lines[j % lines.length] as string) as Record<string, unknown>;
    messages.push({ key: `b-${j}`, value: JSON.stringify({ ...e, id: `b-${j}` }) });
  }
  await producer.send({ topic: topics.input, messages });
}
await producer.disconnect();
console.log(`preloaded ${N} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const config = loadConfig({
  env: { ...process.env, LOG_LEVEL: 'warn', KAFKA_BROKERS: values.brokers, INPUT_TOPICS: topics.input, OUTPUT_TOPIC: topics.output, DLQ_TOPIC: topics.dlq, CONSUMER_GROUP: `bench-${tag}`, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1' },
});
const cpu0 = process.cpuUsage();
const start = performance.now();
let peakRss = 0;
const service = await startService({ config, logger: createLogger({ level: 'warn', pretty: false }), version: 'bench', worker: true });
let first = 0;
for (;;) {
  const scored = (await service.metrics.eventsScored.get()).values.reduce((a, v) => a + v.value, 0);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  if (scored > 0 && first === 0) first = performance.now();
  if (scored >= N) break;
  await new Promise((r) => setTimeout(r, 50));
}
const end = performance.now();
const cpu = process.cpuUsage(cpu0);
await service.close();
await admin.deleteTopics({ topics: Object.values(topics) });
await admin.disconnect();
const seconds = (end - first) / 1000;
console.log(
  JSON.stringify({
    events: N,
    eventsPerSecond: Math.round(N / seconds),
    secondsFromFirstScore: Number(seconds.toFixed(2)),
    startupSeconds: Number(((first - start) / 1000).toFixed(2)),
    processCpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
    peakRssMiB: Math.round(peakRss / 2 ** 20),
    batchMaxSize: config.batch.maxSize,
    concurrency: config.consumer.concurrency,
    delivery: config.delivery,
    machine: `${cpus().length} cores, ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  }),
);
process.exit(0);
