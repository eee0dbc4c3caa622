// The main job on a local default: starts the project's Kafka broker when no KAFKA_BROKERS is given, creates the
// topics, starts the scorer (worker + HTTP sidecar), streams the committed sample of historical opportunities
// through it at a steady rate, and prints a live summary. Then the loop: the outcome monitor joins the scored
// events with the sample's outcomes (its label columns) and prints the live figures beside the heuristic's and the
// card's. /metrics of both stays reachable until Ctrl-C.
//
//   npm run demo [-- --rate 2000 --repeat 3 --exit]
//
// Any configuration key works as usual (e.g. DELIVERY=exactly-once npm run demo).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
// Before kafkajs itself: the project replaces kafkajs's aborted-transaction filter as kafkajs loads, and refuses to run
// when kafkajs was loaded first (this script's own kafkajs producer would otherwise load it first).
import '../src/kafka/kafkajs/aborted.js';
import { Kafka, logLevel } from 'kafkajs';
import { MonitorService, ScorerService } from '../src/service/index.js';
import { outcomeOfSample } from '../src/cli/outcomes-command.js';
import { loadConfig } from '../src/config/index.js';
import { createKafkaPort, ensureTopics } from '../src/kafka/index.js';
import { createLogger } from '../src/logging/index.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    repeat: { type: 'string', default: '1' },
    sample: { type: 'string', default: new URL('../samples/opportunities.jsonl', import.meta.url).pathname },
    exit: { type: 'boolean', default: false },
  },
});
const rate = Number(args.rate);
const repeat = Number(args.repeat);

const env: Record<string, string | undefined> = { ...process.env };
if (env.KAFKA_BROKERS === undefined) {
  const started = spawnSync('bash', [new URL('./kafka/kafka.sh', import.meta.url).pathname, 'start'], { stdio: 'inherit' });
  if (started.status !== 0) process.exit(started.status ?? 1);
  env.KAFKA_BROKERS = '127.0.0.1:9092';
}
env.LOG_LEVEL ??= 'warn';
const config = loadConfig({ env, file: env.CONFIG_FILE });
const logger = createLogger({ level: config.log.level, pretty: process.stdout.isTTY === true });
const kafka = new Kafka({ clientId: 'demo', brokers: [...config.kafka.brokers], logLevel: logLevel.NOTHING });

const admin = await createKafkaPort(config.kafka, logger).admin();
const { outcomesTopic, evaluatedTopic, deadLetterTopic } = config.monitor;
const created = await ensureTopics(admin, [...config.topics.input, config.topics.output, config.topics.deadLetter, outcomesTopic, evaluatedTopic, deadLetterTopic].map((topic) => ({ topic, partitions: config.topics.partitions })));
await admin.close();
if (created.length > 0) console.log(`created topics: ${created.join(', ')}`);

const service = await ScorerService.start({ config, logger, version: 'demo', mode: 'run' });
console.log(`scorer running: delivery=${config.delivery}, model=${config.model.ref}, HTTP ${service.url} (/health /ready /metrics)`);

// Latency: time from producing an event to the scored record's broker timestamp.
const sentAt = new Map<string, number>();
const latencies: number[] = [];
let scored = 0;
let deadLettered = 0;
const reader = kafka.consumer({ groupId: `demo-reader-${Date.now()}`, maxWaitTimeInMs: 50 });
await reader.connect();
await reader.subscribe({ topics: [config.topics.output, config.topics.deadLetter], fromBeginning: false });
await reader.run({
  eachMessage: ({ topic, message }) => {
    if (topic === config.topics.deadLetter) {
      deadLettered++;
      return Promise.resolve();
    }
    scored++;
    const id = message.key?.toString() ?? '';
    const t0 = sentAt.get(id);
    if (t0 !== undefined) {
      latencies.push(Number(message.timestamp) - t0);
      sentAt.delete(id);
    }
    return Promise.resolve();
  },
});
// The reader starts at the end of the topics: wait until it has joined before producing.
await new Promise((r) => setTimeout(r, 1500));

const lines = readFileSync(args.sample, 'utf8').trim().split('\n');
const total = lines.length * repeat;
const producer = kafka.producer();
await producer.connect();
const started = performance.now();
const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
let lastScored = 0;
const summary = setInterval(() => {
  const recent = latencies.splice(0);
  console.log(
    `${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s  scored ${String(scored).padStart(7)}/${total}  ` +
      `${String(scored - lastScored).padStart(6)}/s  dead-lettered ${deadLettered}  ` +
      `latency p50 ${quantile(recent, 0.5).toFixed(0)} ms  p99 ${quantile(recent, 0.99).toFixed(0)} ms`,
  );
  lastScored = scored;
}, 1000);

// Steady rate: one send per 10 ms tick with rate/100 events.
const perTick = Math.max(1, Math.round(rate / 100));
let next = 0;
for (let round = 0; round < repeat; round++) {
  for (let i = 0; i < lines.length; i += perTick) {
    const slice = lines.slice(i, i + perTick).map((line) => {
      const event = JSON.parse(line) as { id: string };
      const id = repeat > 1 ? `${event.id}#${round}` : event.id;
      sentAt.set(id, Date.now());
      return { key: id, value: JSON.stringify({ ...event, id }) };
    });
    await producer.send({ topic: config.topics.input[0] ?? 'opportunities', messages: slice });
    next += 10;
    const wait = started + next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
await producer.disconnect();
while (scored + deadLettered < total) await new Promise((r) => setTimeout(r, 200));
clearInterval(summary);
const seconds = (performance.now() - started) / 1000;
console.log(`done: ${scored} scored, ${deadLettered} dead-lettered in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(0)} events/s offered at ${rate}/s)`);

// The loop: a monitor of its own (fresh group and store, so reruns start clean) joins the scored events with the
// outcomes the sample's labels describe.
const runId = Date.now();
const storePath = `${tmpdir()}/opportunity-scorer-demo-${runId}.sqlite`;
const monitorConfig = loadConfig({
  env: { ...env, HTTP_PORT: String(config.http.port === 0 ? 0 : config.http.port + 1), MONITOR_GROUP: `demo-monitor-${runId}`, MONITOR_WINDOW_MS: String(365 * 86_400_000), MONITOR_STORE_PATH: storePath },
  file: env.CONFIG_FILE,
});
const monitor = await MonitorService.start({ config: monitorConfig, logger, version: 'demo' });
const outcomes = [];
for (let round = 0; round < repeat; round++) {
  for (const line of lines) {
    const event = JSON.parse(line) as Record<string, unknown> & { id: string };
    const o = outcomeOfSample({ ...event, id: repeat > 1 ? `${event.id}#${round}` : event.id });
    if (o !== undefined) outcomes.push({ key: o.id as string, value: JSON.stringify(o) });
  }
}
const outcomesProducer = kafka.producer();
await outcomesProducer.connect();
for (let i = 0; i < outcomes.length; i += 1000) await outcomesProducer.send({ topic: outcomesTopic, messages: outcomes.slice(i, i + 1000) });
await outcomesProducer.disconnect();
const version = service.engine.routing.primary.version;
const bundleName = service.engine.routing.primary.manifest.bundle;
const joinStarted = performance.now();
// Until every outcome joined, or the count stops growing (an id scored by another version in an earlier run of the
// demo on the same broker joins with that prediction: the first one scored wins).
let live = monitor.window.figures(bundleName, version);
let lastGrowth = performance.now();
while ((live?.pairs ?? 0) < outcomes.length && performance.now() - lastGrowth < 10_000) {
  await new Promise((r) => setTimeout(r, 500));
  const before = live?.pairs ?? 0;
  live = monitor.window.figures(bundleName, version);
  if ((live?.pairs ?? 0) > before) lastGrowth = performance.now();
}
const card = (await (await fetch(`${monitor.url}/models/${bundleName}/${version}/performance`)).json()) as { card?: { calibrationError?: number; rocAuc?: number } };
const f = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(3));
console.log(`outcomes: ${outcomes.length} published; ${live?.pairs ?? 0} joined by the monitor (${monitor.url}) in ${((performance.now() - joinStarted) / 1000).toFixed(1)} s`);
console.log(`  ${bundleName}@${version}: ROC-AUC ${f(live?.rocAuc)} (funding differential ${f(live?.heuristic.rocAuc)}, card ${f(card.card?.rocAuc)})  calibration error ${f(live?.calibrationError)} (card ${f(card.card?.calibrationError)})  Brier ${f(live?.brier)}  take ${live?.take.count ?? 0}`);

const shutdown = async (): Promise<void> => {
  await reader.disconnect();
  await monitor.close();
  await service.close();
  // The store was this run's alone (a rerun starts a fresh one): leave nothing behind in the temporary directory.
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${storePath}${suffix}`, { force: true });
  process.exit(0);
};
if (args.exit) await shutdown();
else {
  console.log(`metrics at ${service.url}/metrics and ${monitor.url}/metrics (live figures: ${monitor.url}/models); Ctrl-C to stop`);
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}
