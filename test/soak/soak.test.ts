// The soak (`npm run test:soak`): hours of the worker's life in one run. It measures the worker's capacity on this
// machine, streams at half of it for SOAK_MINUTES (default 30) with a SIGTERM restart every SOAK_RESTART_MINUTES
// (default 5), samples the worker every 10 s, then audits every id and renders RSS and lag over time as a PNG.
// Fails on RSS growth above 10 % within a process's life after its warm-up, on open sockets growing, or on any id
// missing. RELIABILITY.md records a run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Kafka, type Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { testAdmin, testKafka, uniqueName } from '../helpers/kafka.js';
import { workerTopics } from '../helpers/service.js';
import { type WorkerProcess, spawnWorker } from '../helpers/worker.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const RESTART_MINUTES = Number(process.env.SOAK_RESTART_MINUTES ?? 5);
const SAMPLE_MS = 10_000;
/** Samples of a process's first minute are its warm-up (model load, JIT, buffers growing to their working size). */
const WARM_UP_MS = 60_000;
const CAPACITY_EVENTS = 60_000;
const OUT = fileURLToPath(new URL('../../docs/soak/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE_FILE = new URL('../../samples/opportunities.jsonl', import.meta.url);

/** The sample's rows as JSON text without their id, so an event is one concatenation. */
const rows = readFileSync(SAMPLE_FILE, 'utf8')
  .trim()
  .split('\n')
  .map((line) => {
    const { id: _id, ...rest } = JSON.parse(line) as Record<string, unknown>;
    return JSON.stringify(rest).slice(1);
  });
const eventValue = (prefix: string, i: number): string => `{"id":"${prefix}-${i}",${rows[i % rows.length] ?? ''}`;

interface Sample {
  readonly t: number;
  readonly process: number;
  readonly age: number;
  readonly rss: number;
  readonly heap: number;
  readonly eventLoopP99: number;
  readonly lag: number;
  readonly sockets: number;
  readonly scored: number;
}

async function metrics(worker: WorkerProcess): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{.*\})? (\S+)$/.exec(line);
    if (m?.[1] !== undefined) sums.set(m[1], (sums.get(m[1]) ?? 0) + Number(m[2]));
  }
  return sums;
}

function openSockets(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
    } catch {
      return false; // closed meanwhile
    }
  }).length;
}

/** Sends events `prefix-from` … `prefix-(to-1)` at `perSecond`, or as fast as the broker takes them when 0. */
async function produce(producer: Producer, topic: string, prefix: string, from: number, to: number, perSecond: number, stop: () => boolean = () => false): Promise<number> {
  const tick = 100;
  const per = perSecond > 0 ? Math.max(1, Math.round((perSecond * tick) / 1000)) : 2_000;
  let i = from;
  while (i < to && !stop()) {
    const t0 = Date.now();
    const n = Math.min(per, to - i);
    await producer.send({ topic, acks: -1, messages: Array.from({ length: n }, (_, k) => ({ key: `${prefix}-${i + k}`, value: eventValue(prefix, i + k) })) });
    i += n;
    if (perSecond > 0) await sleep(Math.max(0, tick - (Date.now() - t0)));
  }
  return i;
}

/** Counts each id `prefix-i` (i < n) in the output topic under read_committed, and the dead letters, in one pass. */
async function auditIds(kafka: Kafka, topics: { output: string; dlq: string }, prefix: string, n: number): Promise<{ missing: number; duplicated: number; deadLetters: number }> {
  const seen = new Uint8Array(n);
  let deadLetters = 0;
  let found = 0;
  let last = Date.now();
  const consumer = kafka.consumer({ groupId: uniqueName('soak-audit'), readUncommitted: false, maxBytes: 50 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.output, topics.dlq], fromBeginning: true });
  const idPattern = new RegExp(`"id":"${prefix}-(\\d+)"`);
  await consumer.run({
    eachBatch: async ({ batch }) => {
      last = Date.now();
      if (batch.topic === topics.dlq) {
        deadLetters += batch.messages.length;
        return;
      }
      for (const m of batch.messages) {
        const i = Number(idPattern.exec(m.value?.toString() ?? '')?.[1] ?? -1);
        if (i < 0 || i >= n) continue;
        if (seen[i] === 0) found++;
        if ((seen[i] ?? 0) < 255) seen[i] = (seen[i] ?? 0) + 1;
      }
      await Promise.resolve();
    },
  });
  while (found < n && Date.now() - last < 30_000) await sleep(1_000);
  await sleep(3_000);
  await consumer.disconnect();
  let duplicated = 0;
  for (const c of seen) if (c > 1) duplicated++;
  return { missing: n - found, duplicated, deadLetters };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : ((s[Math.floor((s.length - 1) / 2)] ?? 0) + (s[Math.ceil((s.length - 1) / 2)] ?? 0)) / 2;
};

describe('soak', () => {
  it(`half the measured capacity for ${MINUTES} min with a SIGTERM restart every ${RESTART_MINUTES} min: bounded memory, no socket leak, nothing missing`, async () => {
    const kafka = testKafka();
    const topics = await workerTopics(await testAdmin(kafka));
    const env = { ...topics.env, LOG_LEVEL: 'warn' };
    const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 30, maxRetryTime: 2_000 } });
    await producer.connect();
    const prefix = uniqueName('soak');

    // Capacity: a backlog of CAPACITY_EVENTS, drained by a fresh worker; timed from its first to its last event.
    await produce(producer, topics.input, prefix, 0, CAPACITY_EVENTS, 0);
    let worker = await spawnWorker(env);
    await worker.waitReady(90_000);
    const drainStart = Date.now();
    while (((await metrics(worker)).get('opportunity_scorer_events_consumed_total') ?? 0) < CAPACITY_EVENTS) await sleep(250);
    const capacity = Math.round(CAPACITY_EVENTS / ((Date.now() - drainStart) / 1000));
    const rate = Number(process.env.SOAK_RATE ?? Math.round(capacity / 2));
    console.log(`[soak] capacity ${capacity} events/s (a ${CAPACITY_EVENTS}-event backlog); streaming at ${rate}/s for ${MINUTES} min`);

    const samples: Sample[] = [];
    const soakStart = Date.now();
    const end = soakStart + MINUTES * 60_000;
    let proc = 0;
    let procStart = Date.now();
    let produced = CAPACITY_EVENTS;
    let stopping = false;
    const producing = produce(producer, topics.input, prefix, CAPACITY_EVENTS, Number.MAX_SAFE_INTEGER, rate, () => stopping || Date.now() >= end).then((n) => (produced = n));
    const restarts: number[] = [];
    while (Date.now() < end) {
      await sleep(SAMPLE_MS);
      if (worker.proc.pid === undefined || worker.proc.exitCode !== null) throw new Error(`the worker died:\n${worker.logs().slice(-3000)}`);
      const m = await metrics(worker);
      samples.push({
        t: (Date.now() - soakStart) / 1000,
        process: proc,
        age: Date.now() - procStart,
        rss: m.get('opportunity_scorer_process_resident_memory_bytes') ?? Number.NaN,
        heap: m.get('opportunity_scorer_nodejs_heap_size_used_bytes') ?? Number.NaN,
        eventLoopP99: m.get('opportunity_scorer_nodejs_eventloop_lag_p99_seconds') ?? Number.NaN,
        lag: m.get('opportunity_scorer_consumer_lag_records') ?? Number.NaN,
        sockets: openSockets(worker.proc.pid),
        scored: m.get('opportunity_scorer_events_scored_total') ?? 0,
      });
      if (Date.now() - procStart >= RESTART_MINUTES * 60_000 && end - Date.now() > 2 * 60_000) {
        worker.signal('SIGTERM');
        const code = await Promise.race([worker.exited, sleep(60_000).then(() => 'still running 60 s after SIGTERM')]);
        expect(code, worker.logs().slice(-3000)).toBe(0);
        restarts.push((Date.now() - soakStart) / 1000);
        worker = await spawnWorker(env);
        await worker.waitReady(90_000);
        proc++;
        procStart = Date.now();
      }
    }
    stopping = true;
    await producing;
    await producer.disconnect();
    const audit = await auditIds(kafka, topics, prefix, produced);
    worker.signal('SIGTERM');
    expect(await worker.exited).toBe(0);

    // Per process, after its warm-up: the first minute after it against its last three samples.
    const lives = [...new Set(samples.map((s) => s.process))].map((p) => {
      const mine = samples.filter((s) => s.process === p && s.age >= WARM_UP_MS);
      const early = mine.filter((s) => s.age < WARM_UP_MS + 60_000);
      const late = mine.slice(-3);
      return {
        process: p,
        samples: mine.length,
        rssAfterWarmUpMiB: Math.round(median(early.map((s) => s.rss)) / 2 ** 20),
        rssEndMiB: Math.round(median(late.map((s) => s.rss)) / 2 ** 20),
        rssGrowth: median(late.map((s) => s.rss)) / median(early.map((s) => s.rss)) - 1,
        socketsAfterWarmUp: Math.max(...early.map((s) => s.sockets)),
        socketsEnd: Math.max(...late.map((s) => s.sockets)),
        heapEndMiB: Math.round(median(late.map((s) => s.heap)) / 2 ** 20),
        eventLoopP99MaxMs: Math.round(Math.max(...mine.map((s) => s.eventLoopP99)) * 1000),
        lagMax: Math.max(...mine.map((s) => s.lag)),
      };
    });
    const report = { minutes: MINUTES, restartMinutes: RESTART_MINUTES, capacity, rate, produced, restarts, audit, lives, client: process.env.KAFKA_CLIENT ?? 'platformatic', node: process.version };
    mkdirSync(OUT, { recursive: true });
    writeFileSync(`${OUT}soak.json`, `${JSON.stringify({ ...report, samples }, null, 1)}\n`);
    console.log(`[soak] ${JSON.stringify(report)}`);
    const plot = spawnSync('bash', [`${ROOT}scripts/soak/plot.sh`, `${OUT}soak.json`, `${OUT}soak.png`], { encoding: 'utf8' });
    expect(plot.status, `rendering the plot failed:\n${plot.stderr}`).toBe(0);

    expect(audit.missing).toBe(0);
    expect(audit.deadLetters).toBe(0);
    for (const life of lives.filter((l) => l.samples >= 9)) {
      expect(life.rssGrowth, `process ${life.process}: RSS ${life.rssAfterWarmUpMiB} → ${life.rssEndMiB} MiB`).toBeLessThanOrEqual(0.1);
      expect(life.socketsEnd, `process ${life.process}: open sockets ${life.socketsAfterWarmUp} → ${life.socketsEnd}`).toBeLessThanOrEqual(life.socketsAfterWarmUp + 2);
    }
  }, (Number(process.env.SOAK_MINUTES ?? 30) + 20) * 60_000);
});
