// The benchmark suite: `npm run bench` runs every scenario against the co-located broker; `npm run bench -- <name>…`
// runs some (inference, pipeline, backfill, e2e, latency, http, overload, oip, monitor). Throughputs are reported next to a baseline
// measured in the same run. Results: bench-results/<timestamp>.json; `--record` also appends them to BENCHMARKS.md.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { appendFileSync, createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { dirname, join } from 'node:path';
import { cpus, tmpdir, totalmem } from 'node:os';
import autocannon from 'autocannon';
import { Consumer as PltConsumer, MessagesStreamModes, Producer as PltProducer, ProduceAcks, compatibilityPartitioner } from '@platformatic/kafka';
// Before kafkajs itself: the adapter replaces kafkajs's aborted-transaction filter as kafkajs loads.
import { kafkaJsAdmin } from '../src/kafka/kafkajs/adapter.js';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { createDecoder, createEncoder } from '../src/codec/index.js';
import { validateOpportunity } from '../src/contract/index.js';
import { FEATURE_COUNT, writeFeatures } from '../src/features/index.js';
import { ModelBundle, ScoringEngine } from '../src/inference/index.js';
import { createMetrics } from '../src/metrics/index.js';
import { processRecords } from '../src/pipeline/index.js';

const ROOT = new URL('..', import.meta.url).pathname;
// The production bundle, which the services under test load too (MODEL_REF defaults to production); the inference
// scenario also measures the previous production bundle in the same run, for the ratio.
const BUNDLE_VERSION = process.env.BENCH_BUNDLE_VERSION ?? '2.0.0';
const BUNDLE = `${ROOT}models/opportunity-scorer/${BUNDLE_VERSION}`;
const PREVIOUS_BUNDLE = `${ROOT}models/opportunity-scorer/1.0.0`;
const SAMPLE = readFileSync(`${ROOT}samples/opportunities.jsonl`, 'utf8').trim().split('\n');
const E2E_EVENTS = Number(process.env.BENCH_E2E_EVENTS ?? 1_000_000);
const PARTITIONS = 4;
// The Kafka clients the e2e and latency scenarios measure (BENCH_CLIENTS=platformatic for one).
const CLIENTS = (process.env.BENCH_CLIENTS ?? 'kafkajs,platformatic').split(',');
// BENCH_SERVICE_ENV='BATCH_MAX_DELAY_MS=0,…': settings given to every service the scenarios start (to compare one knob).
const SERVICE_ENV = Object.fromEntries(
  (process.env.BENCH_SERVICE_ENV ?? '').split(',').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
// BENCH_NODE_ARGS='--max-old-space-size=256 …': node's own options for every service (V8 flags, which NODE_OPTIONS
// does not all accept); the threads a service starts inherit them.
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
// BENCH_MEMORY_LIMIT_MIB=768: every service runs in a memory cgroup with this limit, as in a container with a memory
// limit (the chart's is 768Mi). Node sizes V8's heap from the limit, so this measures what a deployment gets.
const MEMORY_LIMIT_MIB = process.env.BENCH_MEMORY_LIMIT_MIB === undefined ? undefined : Number(process.env.BENCH_MEMORY_LIMIT_MIB);
// BENCH_LATENCY_RATES=2000,10000 and BENCH_LATENCY_SECONDS=60: the offered rates and how long each is held.
const LATENCY_RATES = (process.env.BENCH_LATENCY_RATES ?? '1000,2000,5000,10000').split(',').map(Number);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 15);
// The load generator of latency and overload; BENCH_LATENCY_GENERATOR is its name before overload used it too.
const GENERATOR = process.env.BENCH_GENERATOR ?? process.env.BENCH_LATENCY_GENERATOR ?? 'platformatic';
// BENCH_E2E_RUNS=defaults: only the default configuration per client (a quick check).
const E2E_ALL_RUNS = process.env.BENCH_E2E_RUNS !== 'defaults';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (v: number, d = 1): number => Number(v.toFixed(d));
type Result = Record<string, unknown>;

// ---------- machine, broker, helpers ----------
const pkg = (name: string): string => (JSON.parse(readFileSync(`${ROOT}node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
const machine = {
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  kafka: process.env.KAFKA_VERSION ?? '4.1.1',
  kafkajs: pkg('kafkajs'),
  platformaticKafka: pkg('@platformatic/kafka'),
  onnxruntime: pkg('onnxruntime-node'),
  bundle: `opportunity-scorer@${BUNDLE_VERSION}`,
  // The code measured: the service runs from dist/, which every run rebuilds from this tree.
  code: spawnSync('git', ['-C', ROOT, 'describe', '--always', '--dirty'], { encoding: 'utf8' }).stdout?.trim() || 'unknown',
  // What every service of the run was given beyond the defaults (BENCH_SERVICE_ENV, BENCH_NODE_ARGS).
  serviceEnv: process.env.BENCH_SERVICE_ENV ?? '',
  nodeArgs: process.env.BENCH_NODE_ARGS ?? '',
  memoryLimitMiB: MEMORY_LIMIT_MIB ?? null,
};

/**
 * The cgroup.procs file of a memory cgroup limited to `mib` (cgroup v2, else v1), made for this run. Needs root and a
 * writable cgroup filesystem; without them the run stops and says so rather than measuring without the limit.
 */
function memoryCgroup(mib: number): string {
  if (!Number.isInteger(mib) || mib < 64) throw new Error(`BENCH_MEMORY_LIMIT_MIB must be an integer of at least 64, got ${process.env.BENCH_MEMORY_LIMIT_MIB}`);
  const name = `opportunity-scorer-bench-${process.pid}`;
  const bytes = String(mib * 2 ** 20);
  const v2 = '/sys/fs/cgroup/cgroup.controllers';
  try {
    if (readFileSync(v2, 'utf8').includes('memory')) {
      const dir = `/sys/fs/cgroup/${name}`;
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${dir}/memory.max`, bytes);
      return `${dir}/cgroup.procs`;
    }
  } catch {
    // not cgroup v2 (or no memory controller there): try v1 below
  }
  try {
    const dir = `/sys/fs/cgroup/memory/${name}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/memory.limit_in_bytes`, bytes);
    return `${dir}/cgroup.procs`;
  } catch (err) {
    throw new Error(`BENCH_MEMORY_LIMIT_MIB needs a writable memory cgroup (root, cgroup v1 or v2): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
const cgroupProcs = MEMORY_LIMIT_MIB === undefined ? undefined : memoryCgroup(MEMORY_LIMIT_MIB);
// The cgroup goes with the run (its services have exited by then, so it is empty and can be removed).
if (cgroupProcs !== undefined) {
  process.on('exit', () => {
    try {
      rmdirSync(dirname(cgroupProcs));
    } catch {
      // a service still in it (the run failed): the empty cgroup can be removed by hand
    }
  });
}

function brokers(): string {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS;
  const r = spawnSync('bash', [`${ROOT}scripts/kafka/kafka.sh`, 'start'], { stdio: 'inherit', env: { ...process.env, KAFKA_HEAP_OPTS: '-Xms512m -Xmx1g' } });
  if (r.status !== 0) throw new Error('could not start the local broker');
  return '127.0.0.1:9092';
}

let kafka: Kafka;
const tag = (): string => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

async function topics(...names: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await kafkaJsAdmin(admin).createTopics(names.map((topic) => ({ topic, partitions: PARTITIONS })));
  await admin.disconnect();
}

async function dropTopics(...names: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: names }).catch(() => undefined);
  await admin.disconnect();
}

function event(i: number, now?: number): string {
  const e = JSON.parse(SAMPLE[i % SAMPLE.length] as string) as Record<string, unknown>;
  e.id = `b${i}`;
  if (now !== undefined) {
    const shift = now - (e.detectedAt as number);
    for (const k of ['detectedAt', 'longNextFundingTime', 'shortNextFundingTime']) e[k] = (e[k] as number) + shift;
  }
  return JSON.stringify(e);
}

async function preload(topic: string, n: number): Promise<number> {
  const producer = kafka.producer();
  await producer.connect();
  const t0 = performance.now();
  const inFlight: Array<Promise<unknown>> = [];
  for (let i = 0; i < n; i += 2000) {
    const messages = [];
    for (let j = i; j < Math.min(n, i + 2000); j++) messages.push({ key: `b${j}`, value: event(j) });
    inFlight.push(producer.send({ topic, messages }));
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
  await producer.disconnect();
  return (performance.now() - t0) / 1000;
}

/**
 * The pid of the local broker scripts/kafka/kafka.sh runs (state under KAFKA_STATE_DIR or <repo>/.kafka-local), so
 * the e2e runs can say what the broker spends beside the worker on the cores they share; undefined for any other.
 */
function localBrokerPid(): number | undefined {
  const port = /^(?:127\.0\.0\.1|localhost):(\d+)$/.exec(brokerList)?.[1];
  if (port === undefined) return undefined;
  try {
    const pid = Number(readFileSync(`${process.env.KAFKA_STATE_DIR ?? `${ROOT}.kafka-local`}/${port}/broker.pid`, 'utf8').trim());
    procStats(pid);
    return pid;
  } catch {
    return undefined;
  }
}

/** The local broker's CPU seconds from this call on, read by calling the result; undefined without a local broker. */
function brokerCpuFromNow(): (() => number) | undefined {
  const pid = localBrokerPid();
  if (pid === undefined) return undefined;
  const start = procStats(pid).cpuSeconds;
  return () => procStats(pid).cpuSeconds - start;
}

/** CPU seconds and peak RSS of a process, from /proc. */
function procStats(pid: number): { cpuSeconds: number; peakRssMiB: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, peakRssMiB: Math.round(kb('VmHWM') / 1024), rssMiB: Math.round(kb('VmRSS') / 1024) };
}

interface Service {
  readonly proc: ChildProcess;
  readonly url: string;
  stop(): Promise<void>;
}

/** `opportunity-scorer run|serve` as a child process (built dist: what users run). */
async function startService(mode: 'run' | 'serve', env: Record<string, string>): Promise<Service> {
  const port = 18000 + Math.floor(Math.random() * 1000);
  // BENCH_CPU_PROF=<dir>: V8 CPU profiles of the service, for `node --cpu-prof` analysis of hot spots.
  const prof = process.env.BENCH_CPU_PROF === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`];
  const argv = [process.execPath, ...prof, ...NODE_ARGS, `${ROOT}bin/opportunity-scorer.js`, mode];
  // In the cgroup before node starts (it reads the limit once, when it sizes the heap); exec keeps the pid.
  const [command, ...args] = cgroupProcs === undefined ? argv : ['/bin/sh', '-c', `echo $$ > ${cgroupProcs} && exec "$@"`, 'sh', ...argv];
  const proc = spawn(command as string, args, {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', LOG_FORMAT: 'json', HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), KAFKA_BROKERS: serviceBrokers(), ...SERVICE_ENV, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${url}/ready`).then((r) => r.ok, () => false)) === true) break;
    await sleep(100);
  }
  return {
    proc,
    url,
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}
let brokerList = '';
/** The brokers a service started by the bench connects to. */
const serviceBrokers = (): string => brokerList || '127.0.0.1:9092';

/** Fresh input/output/dead-letter topics and a worker (`run`) on them; `stop` ends the worker and drops the topics. */
/** What a latency run drives: a process reading `input` in `group`; `service` when it has /metrics to break down. */
interface LatencyTarget {
  readonly input: string;
  readonly group: string;
  readonly service?: Service | undefined;
  stop(): Promise<void>;
}

async function workerOnFreshTopics(env: Record<string, string> = {}): Promise<LatencyTarget & { service: Service }> {
  const id = tag();
  const [input, output, dlq, group] = [`bench-in-${id}`, `bench-out-${id}`, `bench-dlq-${id}`, `bench-${id}`];
  await topics(input, output, dlq);
  const service = await startService('run', { INPUT_TOPICS: input, OUTPUT_TOPIC: output, DLQ_TOPIC: dlq, CONSUMER_GROUP: group, ...env });
  return {
    input,
    group,
    service,
    stop: async () => {
      await service.stop();
      await dropTopics(input, output, dlq);
    },
  };
}

async function scoredCount(url: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  return [...text.matchAll(/^opportunity_scorer_events_scored_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
}

/** Where the worker's memory is when a run ends (MiB): RSS, V8's heap (total and used), memory outside it. */
async function memoryOf(url: string): Promise<Record<string, number>> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const mib = (name: string): number => round(Number(new RegExp(`^opportunity_scorer_${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN) / 2 ** 20);
  return { rss: mib('process_resident_memory_bytes'), heapTotal: mib('nodejs_heap_size_total_bytes'), heapUsed: mib('nodejs_heap_size_used_bytes'), external: mib('nodejs_external_memory_bytes') };
}

/** Histogram sums and counts from /metrics (stage durations, batch sizes, event age, GC pauses), for per-interval means. */
async function histograms(url: string): Promise<Map<string, { sum: number; count: number }>> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const out = new Map<string, { sum: number; count: number }>();
  for (const m of text.matchAll(/^opportunity_scorer_(stage_duration_seconds|batch_size|event_age_seconds|nodejs_gc_duration_seconds)_(sum|count)(\{[^}]*\})? ([\d.e+-]+)$/gm)) {
    const label = /(?:stage|clock|kind)="([^"]+)"/.exec(m[3] ?? '')?.[1];
    const key = `${m[1]}${label === undefined ? '' : `:${label}`}`;
    const entry = out.get(key) ?? { sum: 0, count: 0 };
    entry[m[2] as 'sum' | 'count'] += Number(m[4]);
    out.set(key, entry);
  }
  return out;
}

/**
 * Per-chunk mean of each stage (ms), mean rows per model run and mean event age (ms) between two scrapes; and the
 * worker's GC pauses by kind (how many, and their total ms), which a latency tail is read against.
 */
function breakdown(before: Map<string, { sum: number; count: number }>, after: Map<string, { sum: number; count: number }>): Result {
  const out: Result = {};
  for (const [key, a] of after) {
    const b = before.get(key) ?? { sum: 0, count: 0 };
    const n = a.count - b.count;
    if (n <= 0) continue;
    const mean = (a.sum - b.sum) / n;
    const [metric, label] = key.split(':');
    if (metric === 'batch_size') out.meanRowsPerModelRun = round(mean, 1);
    else if (metric === 'event_age_seconds') out[`meanEventAgeMs_${label}`] = round(mean * 1000, 2);
    else if (metric === 'nodejs_gc_duration_seconds') {
      out[`gcPauses_${label}`] = n;
      out[`gcPauseMs_${label}`] = round((a.sum - b.sum) * 1000, 1);
    }
    else out[`meanMs_${label}`] = round(mean * 1000, 2);
  }
  return out;
}

// ---------- 1. inference ceiling ----------
async function inference(): Promise<Result> {
  const current = await inferenceOf(BUNDLE);
  const previous = await inferenceOf(PREVIOUS_BUNDLE);
  return { scenario: 'inference', ...current, previous };
}

async function inferenceOf(dir: string): Promise<Result> {
  const bundle = await ModelBundle.load(dir);
  const { profit, success, duration } = bundle.manifest.models;
  const models = `${bundle.name}@${bundle.version}: profit ${profit.trees}, success ${success.trees}, duration ${duration.trees} trees`;
  const rows = new Float32Array(SAMPLE.length * FEATURE_COUNT);
  SAMPLE.forEach((l, i) => {
    const r = validateOpportunity(JSON.parse(l));
    if (r.ok) writeFeatures(r.value, rows, i * FEATURE_COUNT);
  });
  const out: Result[] = [];
  for (const b of [1, 8, 32, 128, 256, 1024, 4096]) {
    const calls = Math.max(20, Math.ceil(100_000 / b));
    const per: number[] = [];
    const slots = Math.floor(SAMPLE.length / b);
    for (let k = 0; k < 10; k++) await bundle.predict(rows, b); // warm
    const t0 = performance.now();
    for (let k = 0; k < calls; k++) {
      // A different slice of inputs every call: repeated inputs would flatter the branch predictor.
      const c0 = performance.now();
      await bundle.predict(rows.subarray(((k * 7) % slots) * b * FEATURE_COUNT), b);
      per.push(performance.now() - c0);
    }
    const total = performance.now() - t0;
    per.sort((a, c) => a - c);
    out.push({
      batch: b,
      rowsPerSecond: Math.round((calls * b) / (total / 1000)),
      usPerRow: round((total * 1000) / (calls * b), 2),
      p50CallMs: round(per[Math.floor(per.length / 2)] ?? 0, 3),
      p99CallMs: round(per[Math.floor(per.length * 0.99)] ?? 0, 3),
    });
  }
  await bundle.close();
  return { models, runs: out };
}

// ---------- 2. pipeline without Kafka ----------
async function pipeline(): Promise<Result> {
  const bundle = await ModelBundle.load(BUNDLE);
  const engine = new ScoringEngine(bundle, { maxSize: 1024, maxDelayMs: 0, queueMax: 8192 });
  const encoder = await createEncoder('json', { subject: 'x' });
  const out: Result[] = [];
  for (const codec of ['json', 'avro'] as const) {
    const { opportunityType } = await import('../src/contract/index.js');
    const values = Array.from({ length: 200_000 }, (_, i) => (codec === 'json' ? Buffer.from(event(i)) : opportunityType.toBuffer(JSON.parse(event(i)))));
    const records = values.map((value, i) => ({ topic: 't', partition: 0, offset: String(i), timestamp: '0', key: null, value, headers: {} }));
    const decoder = createDecoder(codec, undefined);
    const metrics = createMetrics(new Registry(), { defaultMetrics: false });
    const run = async (): Promise<number> => {
      const t0 = performance.now();
      for (let i = 0; i < records.length; i += 1024) {
        await processRecords(records.slice(i, i + 1024), { decoder, encoder, engine, maxEventAgeMs: 0, stalePolicy: 'score', metrics });
      }
      return records.length / ((performance.now() - t0) / 1000);
    };
    await run();
    const rates = [await run(), await run(), await run()].sort((a, b) => a - b);
    out.push({ input: codec, output: 'json', eventsPerSecond: Math.round(rates[1] ?? 0), usPerEvent: round(1e6 / (rates[1] ?? 1), 2) });
  }
  await engine.close();
  await bundle.close();
  return { scenario: 'pipeline (decode → validate → features → 3 models → encode, no Kafka)', runs: out };
}

// ---------- 3. end to end, and 4. pass-through baseline ----------
async function e2eRun(input: string, env: Record<string, string>): Promise<Result> {
  const output = `bench-out-${tag()}`;
  const dlq = `bench-dlq-${tag()}`;
  await topics(output, dlq);
  const service = await startService('run', { INPUT_TOPICS: input, OUTPUT_TOPIC: output, DLQ_TOPIC: dlq, CONSUMER_GROUP: `bench-${tag()}`, ...env });
  const pid = service.proc.pid as number;
  const cpu0 = procStats(pid).cpuSeconds;
  const brokerCpuSince = brokerCpuFromNow();
  let first = 0;
  let scored = 0;
  const before = await histograms(service.url);
  const deadline = Date.now() + 600_000;
  // Progress from the output topic's end offsets, read by this process: scraping the worker's /metrics ten times a
  // second (each scrape reads consumer lag from the broker) costs the worker a few percent of its one core. The
  // end offsets also count transaction markers (exactly-once), so the last stretch is confirmed by the worker's count.
  const admin = kafka.admin();
  await admin.connect();
  // A just-created topic's partitions can be briefly unknown to the broker answering ("This server does not host
  // this topic-partition" ended the e2e scenario of the run of 10:23, between two runs): a failed poll counts as no
  // progress yet.
  const written = async (): Promise<number> => (await admin.fetchTopicOffsets(output)).reduce((a, p) => a + Number(p.high), 0);
  for (let w = 0; w < E2E_EVENTS && Date.now() < deadline; await sleep(100)) {
    w = await written().catch(() => w);
    if (w > 0 && first === 0) first = performance.now();
  }
  await admin.disconnect();
  while (scored < E2E_EVENTS && Date.now() < deadline) {
    scored = await scoredCount(service.url);
    if (scored < E2E_EVENTS) await sleep(20);
  }
  const seconds = (performance.now() - first) / 1000;
  const stats = procStats(pid);
  const brokerCpu = brokerCpuSince?.();
  const stages = breakdown(before, await histograms(service.url));
  const memory = await memoryOf(service.url);
  await service.stop();
  await dropTopics(output, dlq);
  // CPU per event, the worker's (all its threads) and the co-located broker's: on 2 cores, E events/s can only
  // be reached when the two together spend at most 2,000,000 / E µs an event.
  const cpuUsPerEvent = { worker: round(((stats.cpuSeconds - cpu0) * 1e6) / scored), ...(brokerCpu === undefined ? {} : { broker: round((brokerCpu * 1e6) / scored) }) };
  return {
    config: env,
    events: scored,
    eventsPerSecond: Math.round(scored / seconds),
    cpuCores: round((stats.cpuSeconds - cpu0) / seconds, 2),
    ...(brokerCpu === undefined ? {} : { brokerCpuCores: round(brokerCpu / seconds, 2) }),
    cpuUsPerEvent,
    peakRssMiB: stats.peakRssMiB,
    memoryAtEndMiB: memory,
    ...stages,
  };
}

/** The same kafkajs consumer/producer settings as the worker, copying bytes from input to output: our Kafka I/O ceiling. */
async function passThrough(input: string): Promise<Result> {
  const output = `bench-copy-${tag()}`;
  await topics(output);
  const consumer = kafka.consumer({ groupId: `copy-${tag()}`, maxWaitTimeInMs: 100, maxBytesPerPartition: 1 << 20, maxBytes: 10 << 20 });
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topics: [input], fromBeginning: true });
  let copied = 0;
  let first = 0;
  let sending: Promise<unknown> = Promise.resolve();
  await consumer.run({
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 4,
    eachBatch: async (payload) => {
      const { batch } = payload;
      if (first === 0) first = performance.now();
      for (let i = 0; i < batch.messages.length; i += 256) {
        const chunk = batch.messages.slice(i, i + 256);
        // Serialised sends on the idempotent producer, as the worker does.
        sending = sending.then(() => producer.send({ topic: output, acks: -1, messages: chunk.map((m) => ({ key: m.key, value: m.value, headers: m.headers })) }));
        await sending;
        payload.resolveOffset(chunk[chunk.length - 1]?.offset as string);
        copied += chunk.length;
        await payload.heartbeat();
      }
    },
  });
  while (copied < E2E_EVENTS) await sleep(50);
  const seconds = (performance.now() - first) / 1000;
  await consumer.disconnect();
  await producer.disconnect();
  await dropTopics(output);
  // What the broker spends an event while @platformatic/kafka copies (its floor under any worker on this machine).
  const brokerCpuSince = brokerCpuFromNow();
  const result: Result = { kafkajsCopyEventsPerSecond: Math.round(copied / seconds), platformaticCopyEventsPerSecond: await platformaticPassThrough(input) };
  if (brokerCpuSince !== undefined) result.platformaticCopyBrokerCpuUsPerEvent = round((brokerCpuSince() * 1e6) / E2E_EVENTS);
  if (spawnSync('which', ['kcat']).status === 0) {
    // librdkafka's copy of the same events (JSON values hold no newline, so newline-delimited is safe).
    const kcatOut = `bench-kcat-${tag()}`;
    await topics(kcatOut);
    const t0 = performance.now();
    execFileSync('bash', ['-c', `set -o pipefail; kcat -C -b ${brokerList} -t ${input} -o beginning -e -q -c ${E2E_EVENTS} | kcat -P -b ${brokerList} -t ${kcatOut} -X linger.ms=20`]);
    result.kcatCopyEventsPerSecond = Math.round(E2E_EVENTS / ((performance.now() - t0) / 1000));
    await dropTopics(kcatOut);
  }
  return result;
}

/** The same copy through @platformatic/kafka: a group stream from the committed offsets, serialised acks=all sends. */
async function platformaticPassThrough(input: string): Promise<number> {
  const output = `bench-copy-plt-${tag()}`;
  await topics(output);
  const base = { clientId: `bench-${tag()}`, bootstrapBrokers: brokerList.split(',') };
  const producer = new PltProducer({ ...base, idempotent: true, acks: ProduceAcks.ALL, partitioner: compatibilityPartitioner });
  const consumer = new PltConsumer({ ...base, groupId: `copy-plt-${tag()}`, maxWaitTime: 100, maxBytes: 10 << 20, maxBytesPerPartition: 1 << 20, autocommit: 1000 });
  const stream = await consumer.consume({ topics: [input], mode: MessagesStreamModes.EARLIEST });
  let copied = 0;
  let first = 0;
  let chunk: Array<{ topic: string; key: Buffer; value: Buffer; headers: Map<Buffer, Buffer> }> = [];
  for await (const m of stream) {
    if (first === 0) first = performance.now();
    chunk.push({ topic: output, key: m.key, value: m.value, headers: m.headers });
    if (chunk.length >= 256 || copied + chunk.length >= E2E_EVENTS || stream.readableLength === 0) {
      await producer.send({ messages: chunk });
      copied += chunk.length;
      chunk = [];
    }
    if (copied >= E2E_EVENTS) break;
  }
  const seconds = (performance.now() - first) / 1000;
  await stream.close();
  await consumer.close(true);
  await producer.close();
  await dropTopics(output);
  return Math.round(copied / seconds);
}

async function e2e(): Promise<Result> {
  const input = `bench-in-${tag()}`;
  await topics(input);
  const preloadSeconds = await preload(input, E2E_EVENTS);
  const baseline = await passThrough(input);
  const runs: Result[] = [];
  for (const client of CLIENTS) {
    const c = { KAFKA_CLIENT: client };
    runs.push(await e2eRun(input, c));
    if (!E2E_ALL_RUNS) continue;
    runs.push(await e2eRun(input, { ...c, DELIVERY: 'exactly-once' }));
    runs.push(await e2eRun(input, { ...c, BATCH_MAX_SIZE: '1024', CONSUMER_CONCURRENCY: '4' }));
    // The cost of committing after every chunk (the default): the same run committing at most once a second.
    runs.push(await e2eRun(input, { ...c, CONSUMER_COMMIT_INTERVAL_MS: '1000' }));
  }
  await dropTopics(input);
  const kafkajsCopy = baseline.kafkajsCopyEventsPerSecond as number;
  const platformaticCopy = baseline.platformaticCopyEventsPerSecond as number;
  return {
    scenario: 'end-to-end through the real broker (JSON in, JSON out, 4 partitions)',
    events: E2E_EVENTS,
    preloadSeconds: round(preloadSeconds),
    passThrough: baseline,
    runs: runs.map((r) => ({
      ...r,
      ofKafkajsPassThrough: round((r.eventsPerSecond as number) / kafkajsCopy, 2),
      ofPlatformaticPassThrough: round((r.eventsPerSecond as number) / platformaticCopy, 2),
    })),
  };
}

// ---------- 5. latency under fixed load ----------
async function latency(): Promise<Result> {
  const runs: Result[] = [];
  for (const client of CLIENTS) runs.push({ client, rates: await latencyOf(() => workerOnFreshTopics({ KAFKA_CLIENT: client })) });
  // The floor under those: the same load through a process that only copies records with the worker's
  // @platformatic/kafka settings (bench/pass-through.ts). BENCH_LATENCY_FLOOR=0 leaves it out.
  if (process.env.BENCH_LATENCY_FLOOR !== '0') runs.push({ client: 'platformatic pass-through copy (no scoring)', rates: await latencyOf(passThroughOnFreshTopics) });
  return { scenario: 'latency under fixed load: scored record written − input produced (default config)', generator: GENERATOR, runs };
}

/** Fresh topics and bench/pass-through.ts copying input to output, in a process of its own as the worker is. */
async function passThroughOnFreshTopics(): Promise<LatencyTarget> {
  const id = tag();
  const [input, output, group] = [`bench-in-${id}`, `bench-out-${id}`, `bench-copy-${id}`];
  await topics(input, output);
  const proc = spawn(process.execPath, [...NODE_ARGS, '--import', 'tsx', `${ROOT}bench/pass-through.ts`, serviceBrokers(), input, output, group], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await new Promise<boolean>((resolve) => {
    proc.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(true));
    proc.once('exit', () => resolve(false));
  });
  if (!ready) throw new Error('bench/pass-through.ts exited before it joined its group (its stderr is above)');
  return {
    input,
    group,
    stop: async () => {
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      await exited;
      await dropTopics(input, output);
    },
  };
}

async function latencyOf(start: () => Promise<LatencyTarget>): Promise<Result[]> {
  const worker = await start();
  const { input, group } = worker;
  const output = input.replace('bench-in-', 'bench-out-');
  const stageHistograms = async (): Promise<Map<string, { sum: number; count: number }>> => (worker.service === undefined ? new Map() : histograms(worker.service.url));
  const reader = kafka.consumer({ groupId: `lat-reader-${tag()}`, maxWaitTimeInMs: 10 });
  const latencies: number[] = [];
  await reader.connect();
  await reader.subscribe({ topics: [output], fromBeginning: true });
  const sentAt = new Map<string, number>();
  await reader.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const t0 = sentAt.get(m.key?.toString() ?? '');
        // The scored record's timestamp is set when the worker writes it; acks=all returns right after.
        if (t0 !== undefined) latencies.push(Number(m.timestamp) - t0);
      }
      await Promise.resolve();
    },
  });
  await sleep(2000);
  const send = await loadGenerator();
  const admin = kafka.admin();
  await admin.connect();
  const out: Result[] = [];
  let n = 0;
  for (const rate of LATENCY_RATES) {
    latencies.length = 0;
    const before = await stageHistograms();
    const seconds = LATENCY_SECONDS;
    const perTick = rate / 100;
    // Encoded before the clock starts: the generator's own JSON work would otherwise sit inside the latencies.
    const payloads = Array.from({ length: seconds * rate }, (_, k) => ({ key: `b${n + k}`, value: Buffer.from(event(n + k)) }));
    const start = performance.now();
    const lag: number[] = [];
    let lagTimer = performance.now();
    for (let tick = 0; tick < seconds * 100; tick++) {
      const messages = payloads.slice(tick * perTick, (tick + 1) * perTick);
      const now = Date.now();
      for (const m of messages) sentAt.set(m.key, now);
      n += messages.length;
      void send(input, messages);
      if (performance.now() - lagTimer > 1000) {
        lagTimer = performance.now();
        // Consumer lag: end offsets minus the worker group's committed offsets, summed over partitions.
        const [committed, ends] = await Promise.all([admin.fetchOffsets({ groupId: group, topics: [input] }), admin.fetchTopicOffsets(input)]);
        const done = committed[0]?.partitions.reduce((a, p) => a + Math.max(0, Number(p.offset)), 0) ?? 0;
        lag.push(ends.reduce((a, p) => a + Number(p.high), 0) - done);
      }
      const wait = start + (tick + 1) * 10 - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await sleep(3000);
    const sorted = [...latencies].sort((a, b) => a - b);
    const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
    const stages = breakdown(before, await stageHistograms());
    out.push({ offeredPerSecond: rate, measured: sorted.length, p50Ms: q(0.5), p95Ms: q(0.95), p99Ms: q(0.99), maxMs: sorted[sorted.length - 1] ?? Number.NaN, lagPerSecond: lag, ...stages });
  }
  await send.close();
  await admin.disconnect();
  await reader.disconnect();
  await worker.stop();
  return out;
}

/**
 * The load generator of the latency and overload scenarios: @platformatic/kafka (acks=all, kafkajs's key
 * partitioning) by default, as it takes about half kafkajs's CPU per record on the two cores the worker and broker
 * share; BENCH_GENERATOR=kafkajs for the generator of runs before 2026-12-05.
 */
async function loadGenerator(): Promise<((topic: string, messages: Array<{ key: string; value: Buffer }>) => Promise<unknown>) & { close: () => Promise<void> }> {
  if (GENERATOR === 'kafkajs') {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    return Object.assign((topic: string, messages: Array<{ key: string; value: Buffer }>) => producer.send({ topic, messages }), { close: () => producer.disconnect() });
  }
  const producer = new PltProducer({ clientId: `bench-gen-${tag()}`, bootstrapBrokers: brokerList.split(','), acks: ProduceAcks.ALL, partitioner: compatibilityPartitioner });
  return Object.assign((topic: string, messages: Array<{ key: string; value: Buffer }>) => producer.send({ messages: messages.map((m) => ({ topic, key: Buffer.from(m.key), value: m.value })) }), {
    close: () => producer.close(),
  });
}

// ---------- 6. HTTP ----------
const reference = JSON.stringify({
  symbol: 'BTCUSDT', longExchange: 'Bybit', shortExchange: 'Binance', longFundingRate: -0.001, shortFundingRate: 0.002,
  longFundingIntervalHours: 8, shortFundingIntervalHours: 8, longNextFundingTime: '2025-10-26T16:00:00Z', shortNextFundingTime: '2025-10-26T16:00:00Z',
  currentPriceSpreadPercent: 0.05, volume24h: 1000000, fundProfit8h: 2.5, fundApr: 1095.0, detectedAt: '2025-10-26T15:00:00Z',
});
const batch32 = `[${Array(32).fill(reference).join(',')}]`;

async function load(
  url: string,
  body: string | Buffer,
  opts: { connections: number; rate?: number; seconds?: number; headers?: Record<string, string> },
): Promise<{ rps: number; p50: number; p99: number; non2xx: number }> {
  const headers = opts.headers ?? { 'content-type': 'application/json' };
  const r = await autocannon({ url, method: 'POST', body, headers, connections: opts.connections, duration: opts.seconds ?? 10, ...(opts.rate ? { overallRate: opts.rate } : {}) });
  return { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx };
}

async function http(): Promise<Result> {
  const service = await startService('serve', {});
  const out: Result = {};
  for (const [name, path, body] of [['predict', '/predict', reference], ['predictBatch32', '/predict/batch', batch32]] as const) {
    await load(`${service.url}${path}`, body, { connections: 10, seconds: 3 });
    let best: Result = {};
    for (const c of [1, 2, 4, 8, 16, 32, 64]) {
      const r = await load(`${service.url}${path}`, body, { connections: c, seconds: 6 });
      if (r.p99 <= 10 && r.non2xx === 0 && r.rps > ((best.rps as number | undefined) ?? 0)) best = { ...r, connections: c };
    }
    out[name] = { maxWithP99Under10ms: best, at1000PerSecond: await load(`${service.url}${path}`, body, { connections: 20, rate: 1000, seconds: 10 }) };
  }
  await service.stop();

  // The same while the Kafka worker runs in the same process at about half of its maximum.
  const both = await workerOnFreshTopics();
  const input = both.input;
  const rate = Number(process.env.BENCH_HALF_RATE ?? 12_000);
  const producer = kafka.producer();
  await producer.connect();
  let stop = false;
  const feeding = (async () => {
    let n = 0;
    const start = performance.now();
    for (let tick = 0; !stop; tick++) {
      const messages = Array.from({ length: rate / 100 }, () => ({ key: `b${n}`, value: event(n++) }));
      void producer.send({ topic: input, messages });
      const wait = start + (tick + 1) * 10 - performance.now();
      if (wait > 0) await sleep(wait);
    }
  })();
  await sleep(3000);
  out.predictWhileWorkerAtHalf = { kafkaEventsPerSecondOffered: rate, at1000PerSecond: await load(`${both.service.url}/predict`, reference, { connections: 20, rate: 1000, seconds: 10 }) };
  stop = true;
  await feeding;
  await producer.disconnect();
  await both.stop();
  return { scenario: 'HTTP with autocannon (separate load generator in this process)', ...out };
}

// ---------- 7. overload ----------
/** Distinct events the overload generator cycles through, encoded before the clock starts. */
const OVERLOAD_POOL = 20_000;

async function overload(): Promise<Result> {
  const worker = await workerOnFreshTopics();
  const { input, service } = worker;
  // 2× what the worker sustains with defaults here (38,967 events/s in the run of 2026-12-05 07:39, on the code it names).
  const rate = Number(process.env.BENCH_OVERLOAD_RATE ?? 80_000);
  const seconds = Number(process.env.BENCH_OVERLOAD_SECONDS ?? 60);
  const send = await loadGenerator();
  // The worker scores repeated events like new ones; a pool keeps the generator's JSON work and memory off the clock.
  const pool = Array.from({ length: OVERLOAD_POOL }, (_, k) => ({ key: `b${k}`, value: Buffer.from(event(k)) }));
  const rss: number[] = [];
  const start = performance.now();
  let n = 0;
  const inFlight: Array<Promise<unknown>> = [];
  for (let tick = 0; tick < seconds * 10; tick++) {
    // At most 1,000 events per request: a larger one can exceed the broker's 1 MB request limit per partition.
    for (let sent = 0; sent < rate / 10; sent += 1000) {
      const messages = Array.from({ length: Math.min(1000, rate / 10 - sent) }, () => pool[n++ % OVERLOAD_POOL] as { key: string; value: Buffer });
      inFlight.push(send(input, messages));
      if (inFlight.length > 40) await inFlight.shift();
    }
    if (tick % 10 === 0) rss.push(procStats(service.proc.pid as number).rssMiB);
    const wait = start + (tick + 1) * 100 - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await Promise.all(inFlight);
  const produced = n;
  const offeredSeconds = (performance.now() - start) / 1000;
  const scoredAtEnd = await scoredCount(service.url);
  const drainStart = performance.now();
  while ((await scoredCount(service.url)) < produced && performance.now() - drainStart < 600_000) {
    rss.push(procStats(service.proc.pid as number).rssMiB);
    await sleep(1000);
  }
  const drainSeconds = (performance.now() - drainStart) / 1000;
  const finalScored = await scoredCount(service.url);
  const peak = procStats(service.proc.pid as number).peakRssMiB;
  await send.close();
  await worker.stop();
  return {
    scenario: `overload: ${rate}/s offered for ${seconds} s`,
    generator: GENERATOR,
    produced,
    achievedProduceRate: Math.round(produced / offeredSeconds),
    scoredDuringLoad: scoredAtEnd,
    scoredPerSecondDuringLoad: Math.round(scoredAtEnd / offeredSeconds),
    lagAtEnd: produced - scoredAtEnd,
    drainSeconds: round(drainSeconds),
    missing: produced - finalScored,
    rssMiB: { max: Math.max(...rss), last: rss[rss.length - 1], peak },
  };
}

// ---------- 8. OIP v2 infer beside /predict/batch, 64 rows a request ----------
async function oip(): Promise<Result> {
  const service = await startService('serve', {});
  const ops = SAMPLE.slice(0, 64).map((l) => JSON.parse(l) as Record<string, unknown>);
  const rows = new Float32Array(ops.length * FEATURE_COUNT);
  ops.forEach((o, i) => {
    const r = validateOpportunity(o);
    if (r.ok) writeFeatures(r.value, rows, i * FEATURE_COUNT);
  });
  const tensor = { name: 'input', datatype: 'FP32', shape: [ops.length, FEATURE_COUNT] };
  const jsonBody = JSON.stringify({ inputs: [{ ...tensor, data: Array.from(rows, (v) => (Number.isNaN(v) ? null : v)) }] });
  const header = Buffer.from(JSON.stringify({ inputs: [{ ...tensor, parameters: { binary_data_size: rows.byteLength } }], parameters: { binary_data_output: true } }));
  const binaryBody = Buffer.concat([header, Buffer.from(rows.buffer)]);
  const infer = `${service.url}/v2/models/opportunity-scorer/infer`;
  const cases = [
    ['predictBatch64', `${service.url}/predict/batch`, JSON.stringify(ops), { 'content-type': 'application/json' }],
    ['v2InferJson64', infer, jsonBody, { 'content-type': 'application/json' }],
    ['v2InferBinary64', infer, binaryBody, { 'inference-header-content-length': String(header.length) }],
  ] as const;
  const out: Result = { rowsPerRequest: ops.length };
  for (const [name, url, body, headers] of cases) {
    await load(url, body, { connections: 8, seconds: 3, headers });
    let best: Result = {};
    for (const c of [2, 4, 8, 16, 32]) {
      const r = await load(url, body, { connections: c, seconds: 6, headers });
      if (r.non2xx === 0 && r.rps > ((best.rps as number | undefined) ?? 0)) best = { ...r, connections: c, rowsPerSecond: r.rps * ops.length };
    }
    out[name] = best;
  }
  await service.stop();
  return { scenario: 'OIP v2 infer (feature tensor, JSON and binary) beside /predict/batch, 64 rows a request', ...out };
}

// ---------- backfill: file -> file on the main thread and on scoring threads ----------
/**
 * 1,000,000 rows (the sample 200 times over, ids made unique) scored file -> file by the built CLI: one thread, then
 * `--threads auto`; wall time, peak RSS (GNU time) and whether the two outputs are the same bytes.
 */
async function backfill(): Promise<Result> {
  const rows = Number(process.env.BENCH_BACKFILL_ROWS ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'bench-backfill-'));
  const input = join(dir, 'in.jsonl');
  const out = createWriteStream(input);
  for (let i = 0; i < rows; i++) {
    const line = SAMPLE[i % SAMPLE.length] as string;
    const round = Math.floor(i / SAMPLE.length);
    if (!out.write(`${round === 0 ? line : line.replace(/"id":"([^"]+)"/, `"id":"$1#${round}"`)}\n`)) await once(out, 'drain');
  }
  out.end();
  await finished(out);
  const runs: Result[] = [];
  const digests: string[] = [];
  for (const threads of ['1', 'auto']) {
    const output = join(dir, `out-${threads}.jsonl`);
    const args = ['-f', '%M', process.execPath, `${ROOT}dist/cli/bin.js`, 'backfill', '--input', input, '--output', output, '--model', 'opportunity-scorer@production', '--threads', threads, '--progress', 'none'];
    const started = performance.now();
    const run = spawnSync('/usr/bin/time', args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn' }, maxBuffer: 1 << 26 });
    const seconds = (performance.now() - started) / 1000;
    if (run.status !== 0) throw new Error(`backfill --threads ${threads} failed: ${run.stderr.slice(-2000)}`);
    const summary = JSON.parse(run.stdout) as { scored: number; threads: number; rowsPerSecond: number };
    const rssKiB = Number(run.stderr.trim().split('\n').at(-1));
    const hash = createHash('sha256');
    for await (const piece of createReadStream(output)) hash.update(piece as Buffer);
    digests.push(hash.digest('hex'));
    runs.push({ threads: summary.threads, scored: summary.scored, seconds: Number(seconds.toFixed(2)), rowsPerSecond: Math.round(rows / seconds), jobRowsPerSecond: summary.rowsPerSecond, peakRssMiB: Math.round(rssKiB / 1024) });
    rmSync(output, { force: true });
  }
  rmSync(dir, { recursive: true, force: true });
  const [single, parallel] = runs as [Result, Result];
  return { scenario: `backfill ${rows.toLocaleString('en')} rows JSONL file -> JSONL file (bundle @production)`, single, parallel, speedup: Number(((parallel.rowsPerSecond as number) / (single.rowsPerSecond as number)).toFixed(2)), sameBytes: digests[0] === digests[1] };
}

// ---------- monitor: the outcome join with 1,000,000 predictions in its window ----------
/**
 * The built `monitor` over the real broker: 1,000,000 scored records (JSON, the sample's fields, keyed by id) and
 * then their 1,000,000 outcomes, pre-produced to 4-partition topics; the monitor reads both from the beginning.
 * Reported: predictions stored per second, joins per second (pairs published to the evaluated topic), peak RSS of
 * the process (VmHWM) and the size of its SQLite store with every prediction in the window.
 */
async function monitor(): Promise<Result> {
  const n = Number(process.env.BENCH_MONITOR_PREDICTIONS ?? 1_000_000);
  const admin = kafka.admin();
  await admin.connect();
  const tag = Date.now();
  const topics = { scored: `bench-mon-scored-${tag}`, outcomes: `bench-mon-outcomes-${tag}`, evaluated: `bench-mon-evaluated-${tag}`, dlq: `bench-mon-dlq-${tag}` };
  await kafkaJsAdmin(admin).createTopics(Object.values(topics).map((topic) => ({ topic, partitions: PARTITIONS })));
  const producer = kafka.producer();
  await producer.connect();
  const now = Date.now();
  const sample = SAMPLE.map((l) => JSON.parse(l) as Record<string, number | string | null>);
  const produce = async (topic: string, make: (i: number) => Record<string, unknown>): Promise<void> => {
    const inFlight: Array<Promise<unknown>> = [];
    for (let i = 0; i < n; i += 2_000) {
      const messages = Array.from({ length: Math.min(2_000, n - i) }, (_, k) => {
        const v = make(i + k);
        return { key: v.id as string, value: JSON.stringify(v) };
      });
      inFlight.push(producer.send({ topic, acks: -1, messages }));
      if (inFlight.length >= 8) await inFlight.shift();
    }
    await Promise.all(inFlight);
  };
  await produce(topics.scored, (i) => {
    const e = sample[i % sample.length] as Record<string, number>;
    const p = ((i * 7919) % 1000) / 1000;
    return { id: `m-${i}`, symbol: e.symbol, longExchange: e.longExchange, shortExchange: e.shortExchange, detectedAt: new Date(now).toISOString(), predictedProfitPercent: p - 0.5, successProbability: p, predictedDurationHours: 24, compositeScore: p * (p - 0.5), rankScore: p, take: p > 0.9, fundingDifferential: e.fundProfit8h, modelBundle: 'opportunity-scorer', modelVersion: BUNDLE_VERSION, scoredAt: new Date(now).toISOString(), source: null };
  });
  await producer.disconnect();
  const dir = mkdtempSync(join(tmpdir(), 'bench-monitor-'));
  const port = 18_700 + Math.floor(Math.random() * 200);
  const env = {
    ...process.env,
    KAFKA_BROKERS: brokerList,
    LOG_LEVEL: 'warn',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    OUTPUT_TOPIC: topics.scored,
    OUTCOMES_TOPIC: topics.outcomes,
    EVALUATED_TOPIC: topics.evaluated,
    OUTCOMES_DLQ_TOPIC: topics.dlq,
    MONITOR_GROUP: `bench-monitor-${tag}`,
    MONITOR_STORE_PATH: join(dir, 'join.sqlite'),
  };
  const proc: ChildProcess = spawn(process.execPath, [`${ROOT}dist/cli/bin.js`, 'monitor'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const metric = async (name: string): Promise<number> => {
    const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
    return text.split('\n').filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  };
  const peakRss = (): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  const until = async (what: string, check: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 1_800_000;
    while (!(await check())) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`monitor bench: ${what} not reached`);
      // As often as Prometheus would scrape at most: a scrape computes the live figures.
      await sleep(2_000);
    }
  };
  try {
    const started = performance.now();
    await until('every prediction stored', async () => (await metric('opportunity_scorer_monitor_records_total{side="scored"')) >= n);
    const stored = performance.now();
    const storeBytes = await metric('opportunity_scorer_monitor_store_bytes');
    const rssStored = peakRss();
    const outcomesProducer = kafka.producer();
    await outcomesProducer.connect();
    const joinStarted = performance.now();
    const producing = (async () => {
      const inFlight: Array<Promise<unknown>> = [];
      for (let i = 0; i < n; i += 2_000) {
        const messages = Array.from({ length: Math.min(2_000, n - i) }, (_, k) => {
          const j = i + k;
          return { key: `m-${j}`, value: JSON.stringify({ id: `m-${j}`, closedAt: now + 3_600_000 + j, realisedProfitPercent: (j * 104729) % 1000 < ((j * 7919) % 1000) ? 0.2 : -0.1, holdHours: 24 }) };
        });
        inFlight.push(outcomesProducer.send({ topic: topics.outcomes, acks: -1, messages }));
        if (inFlight.length >= 8) await inFlight.shift();
      }
      await Promise.all(inFlight);
    })();
    await producing;
    await outcomesProducer.disconnect();
    await until('every outcome joined', async () => (await metric('opportunity_scorer_monitor_pairs_total')) >= n);
    const joined = performance.now();
    return {
      scenario: `monitor: ${n.toLocaleString('en')} predictions in the window, then their outcomes (built CLI, real broker, 4 partitions, at-least-once)`,
      predictionsPerSecond: Math.round(n / ((stored - started) / 1000)),
      joinsPerSecond: Math.round(n / ((joined - joinStarted) / 1000)),
      joinSecondsIncludingProduce: round((joined - joinStarted) / 1000),
      storeMiBWithAllPredictions: round(storeBytes / 2 ** 20),
      storeBytesPerPrediction: Math.round(storeBytes / n),
      peakRssMiBAfterPredictions: Math.round(rssStored / 2 ** 20),
      peakRssMiB: Math.round(peakRss() / 2 ** 20),
      livePairs: await metric('opportunity_scorer_live_pairs'),
    };
  } finally {
    proc.kill('SIGTERM');
    await once(proc, 'exit');
    rmSync(dir, { recursive: true, force: true });
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  }
}

// ---------- runner ----------
const SCENARIOS: Record<string, () => Promise<Result>> = { inference, pipeline, backfill, e2e, latency, http, overload, oip, monitor };
const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = chosen.length > 0 ? chosen : Object.keys(SCENARIOS);
const needsKafka = names.some((n) => ['e2e', 'latency', 'http', 'overload', 'monitor'].includes(n));
if (needsKafka) {
  brokerList = brokers();
  kafka = new Kafka({ clientId: 'bench', brokers: brokerList.split(','), logLevel: logLevel.NOTHING });
}
// Always rebuild: the services run from dist/, and a dist/ older than the tree once had a whole recorded run measure
// code from hours earlier while the record named the newer commit.
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
for (const name of names) if (SCENARIOS[name] === undefined) throw new Error(`unknown scenario ${name}; choose from ${Object.keys(SCENARIOS).join(', ')}`);
const report = { date: new Date().toISOString(), machine, results: [] as Result[] };
const jsonPath = `${ROOT}bench-results/${report.date.replace(/[:.]/g, '-')}.json`;
mkdirSync(`${ROOT}bench-results`, { recursive: true });
const record = process.argv.includes('--record');
if (record) appendFileSync(`${ROOT}BENCHMARKS.md`, header(report));
let failed = false;
for (const name of names) {
  process.stderr.write(`\n== ${name}\n`);
  let r: Result;
  try {
    r = await (SCENARIOS[name] as () => Promise<Result>)();
  } catch (err) {
    // One scenario failing must not lose the others' figures.
    failed = true;
    r = { scenario: name, error: err instanceof Error ? err.message : String(err) };
  }
  process.stderr.write(`${JSON.stringify(r, null, 1)}\n`);
  report.results.push(r);
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  if (record) appendFileSync(`${ROOT}BENCHMARKS.md`, section(r));
}
process.stderr.write(`\n${record ? 'appended to BENCHMARKS.md; ' : ''}JSON in ${jsonPath}\n`);
process.exit(failed ? 1 : 0);

function header(r: typeof report): string {
  return [`\n## Run of ${r.date}\n`, `Machine: ${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.memoryGiB} GiB; code ${r.machine.code}; Node ${r.machine.node}; Apache Kafka ${r.machine.kafka} on the same machine; kafkajs ${r.machine.kafkajs}; @platformatic/kafka ${r.machine.platformaticKafka}; onnxruntime-node ${r.machine.onnxruntime}; bundle ${r.machine.bundle}; ${r.machine.serviceEnv || r.machine.nodeArgs ? `every service with \`${[r.machine.nodeArgs, r.machine.serviceEnv].filter(Boolean).join(' ')}\`` : 'default configuration unless a run names its settings'}${r.machine.memoryLimitMiB === null ? '' : `; every service in a memory cgroup of ${r.machine.memoryLimitMiB} MiB`}.\n`].join('\n');
}

function section(res: Result): string {
  return [`### ${String(res.scenario)}\n`, '```json', JSON.stringify({ ...res, scenario: undefined }, null, 1), '```\n'].join('\n');
}
