// The fault suite: events stream in while faults are injected, then the ledger (the product's `ledger` reader)
// checks every id. `npm test` runs it reduced; `npm run test:faults` runs it in full (FAULT_PROFILE=full) and
// prints the figures RELIABILITY.md records.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, type Producer, logLevel } from 'kafkajs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { testAdmin, testKafka, uniqueName } from '../helpers/kafka.js';
import { type LedgerReport, ledgerReport, readLedger, sampleEvents } from '../helpers/ledger.js';
import { type Topics, workerTopics } from '../helpers/service.js';
import { type WorkerProcess, freePort, spawnWorker } from '../helpers/worker.js';

const FULL = process.env.FAULT_PROFILE === 'full';
const KILLS = Number(process.env.FAULT_KILLS ?? (FULL ? 20 : 2));
const EOS_KILLS = Number(process.env.FAULT_EOS_KILLS ?? (FULL ? 10 : 2));
/** Per test: the full profile runs for minutes. */
const TIMEOUT = FULL ? 1_200_000 : 300_000;
const between = (lo: number, hi: number): number => lo + Math.random() * (hi - lo);
const KAFKA_SCRIPT = fileURLToPath(new URL('../../scripts/kafka/kafka.sh', import.meta.url));

/** Produces the events at a steady pace in the background (so faults land mid-stream); resolves when all are acked. */
function stream(kafka: Kafka, topic: string, events: ReadonlyArray<{ id: string }>, perSecond: number): { done: Promise<void>; sent: () => number } {
  let sent = 0;
  const done = (async () => {
    const producer: Producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 30, maxRetryTime: 2_000 } });
    await producer.connect();
    try {
      const tick = 100;
      const per = Math.max(1, Math.round((perSecond * tick) / 1000));
      for (let i = 0; i < events.length; i += per) {
        const t0 = Date.now();
        await producer.send({ topic, acks: -1, messages: events.slice(i, i + per).map((e) => ({ key: e.id, value: JSON.stringify(e) })) });
        sent = Math.min(events.length, i + per);
        await sleep(Math.max(0, tick - (Date.now() - t0)));
      }
    } finally {
      await producer.disconnect();
    }
  })();
  return { done, sent: () => sent };
}

interface Figures {
  readonly scenario: string;
  readonly faults: number;
  readonly events: number;
  readonly missing: number;
  readonly duplicated: number;
  readonly inBoth: number;
  readonly seconds: number;
}

function report(f: Figures): void {
  console.log(`[faults] ${JSON.stringify(f)}`);
}

/** The ledger over the output and dead-letter topics, once every expected id has arrived (or after `timeoutMs`). */
async function audit(kafka: Kafka, topics: Pick<Topics, 'output' | 'dlq'>, ids: readonly string[], timeoutMs = 180_000): Promise<LedgerReport> {
  const entries = await readLedger(kafka, [topics.output, topics.dlq], (es) => new Set(es.map((e) => e.id)).size >= ids.length, timeoutMs, 3_000);
  return ledgerReport(entries, topics.output, ids);
}

/** SIGKILL at random moments, each followed by a restart, while events stream in. */
async function killLoop(delivery: 'at-least-once' | 'exactly-once', kills: number): Promise<Figures> {
  const started = Date.now();
  const kafka = testKafka();
  const topics = await workerTopics(await testAdmin(kafka));
  const env = { ...topics.env, DELIVERY: delivery, CONSUMER_SESSION_TIMEOUT_MS: '6000' };
  // Enough events to keep the stream going through every kill (about 6 s per cycle at 1,500/s).
  const events = sampleEvents(Math.max(10_000, kills * 9_000), `${delivery}-kill`);
  const producing = stream(kafka, topics.input, events, 1_500);
  for (let k = 0; k < kills; k++) {
    const w = await spawnWorker(env);
    await w.waitReady(90_000);
    await sleep(between(300, 2_500));
    w.signal('SIGKILL');
    await w.exited;
  }
  const last = await spawnWorker(env);
  await last.waitReady(90_000);
  await producing.done;
  const ids = events.map((e) => e.id);
  const r = await audit(kafka, topics, ids);
  last.signal('SIGTERM');
  expect(await last.exited).toBe(0);
  return { scenario: `SIGKILL + restart (${delivery})`, faults: kills, events: ids.length, missing: r.missing.length, duplicated: r.duplicated.length, inBoth: r.inBoth.length, seconds: Math.round((Date.now() - started) / 1000) };
}

describe('fault suite', () => {
  it(`at-least-once: ${KILLS} SIGKILLs at random moments, each followed by a restart: nothing lost`, async () => {
    const f = await killLoop('at-least-once', KILLS);
    report(f);
    expect(f.missing).toBe(0);
    expect(f.inBoth).toBe(0);
  }, TIMEOUT);

  it(`exactly-once: ${EOS_KILLS} SIGKILLs with restarts: nothing lost, nothing duplicated`, async () => {
    const f = await killLoop('exactly-once', EOS_KILLS);
    report(f);
    expect(f.missing).toBe(0);
    expect(f.duplicated).toBe(0);
    expect(f.inBoth).toBe(0);
  }, TIMEOUT);

  it('three workers joining and leaving (SIGTERM and SIGKILL) while events flow: nothing lost', async () => {
    const started = Date.now();
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const topics = await workerTopics(admin, 6);
    const env = { ...topics.env, CONSUMER_SESSION_TIMEOUT_MS: '6000' };
    const events = sampleEvents(FULL ? 90_000 : 30_000, 'churn');
    const producing = stream(kafka, topics.input, events, 3_000);
    const workers: WorkerProcess[] = [];
    let faults = 0;
    const join = async (): Promise<void> => {
      const w = await spawnWorker(env);
      await w.waitReady(90_000);
      workers.push(w);
    };
    await join();
    await join();
    await join();
    const rounds = FULL ? 8 : 2;
    for (let i = 0; i < rounds; i++) {
      await sleep(between(1_000, 3_000));
      const leaving = workers.splice(Math.floor(Math.random() * workers.length), 1)[0];
      leaving?.signal(i % 2 === 0 ? 'SIGTERM' : 'SIGKILL');
      await leaving?.exited;
      faults++;
      await join();
    }
    expect((await admin.describeGroups([topics.group])).groups[0]?.members.length).toBeLessThanOrEqual(3);
    await producing.done;
    const ids = events.map((e) => e.id);
    const r = await audit(kafka, topics, ids);
    for (const w of workers) w.signal('SIGTERM');
    for (const w of workers) expect(await w.exited).toBe(0);
    const f = { scenario: 'three workers joining and leaving', faults, events: ids.length, missing: r.missing.length, duplicated: r.duplicated.length, inBoth: r.inBoth.length, seconds: Math.round((Date.now() - started) / 1000) };
    report(f);
    expect(f.missing).toBe(0);
    expect(f.inBoth).toBe(0);
  }, TIMEOUT);

  it('broker stopped and restarted mid-stream: the worker rides it out, nothing lost', async () => {
    const started = Date.now();
    // A broker of this test's own (the shared one must stay up for the other suites).
    const port = await freePort();
    const state = mkdtempSync(join(tmpdir(), 'kafka-fault-'));
    const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(await freePort()), KAFKA_STATE_DIR: state };
    const broker = (cmd: 'start' | 'stop'): void => {
      const r = spawnSync('bash', [KAFKA_SCRIPT, cmd], { env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`kafka.sh ${cmd} failed (the broker restart scenario needs the project's local broker: Java 17+ and Maven):\n${r.stderr}`);
    };
    broker('start');
    onTestFinished(() => {
      broker('stop');
      rmSync(state, { recursive: true, force: true });
    });
    // Phases with times, so a slow or stuck step is visible in CI's output.
    const phase = (name: string): void => console.log(`[faults] broker scenario: ${name} at ${Math.round((Date.now() - started) / 1000)} s`);
    phase('broker started');
    const kafka = new Kafka({ clientId: uniqueName('fault'), brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topics = { input: uniqueName('in'), output: uniqueName('out'), dlq: uniqueName('dlq'), group: uniqueName('group') };
    await admin.createTopics({ waitForLeaders: true, topics: [topics.input, topics.output, topics.dlq].map((topic) => ({ topic, numPartitions: 4 })) });
    await admin.disconnect();
    const worker = await spawnWorker({
      KAFKA_BROKERS: `127.0.0.1:${port}`,
      INPUT_TOPICS: topics.input,
      OUTPUT_TOPIC: topics.output,
      DLQ_TOPIC: topics.dlq,
      CONSUMER_GROUP: topics.group,
      CONSUMER_SESSION_TIMEOUT_MS: '10000',
    });
    await worker.waitReady(90_000);
    const events = sampleEvents(FULL ? 40_000 : 15_000, 'broker');
    const first = events.slice(0, events.length / 2);
    const second = events.slice(events.length / 2);
    phase('worker ready');
    await stream(kafka, topics.input, first, 5_000).done;
    phase('first half produced');
    broker('stop');
    phase('broker stopped');
    await sleep(FULL ? 15_000 : 5_000);
    broker('start');
    phase('broker restarted');
    await stream(kafka, topics.input, second, 5_000).done;
    phase('second half produced');
    const ids = events.map((e) => e.id);
    const r = await audit(kafka, topics, ids, 120_000);
    phase('ledger read');
    expect(worker.proc.exitCode, worker.logs().slice(-3000)).toBeNull();
    expect(r.missing.length, `missing ${r.missing.length}; worker log:\n${worker.logs().slice(-3000)}`).toBe(0);
    worker.signal('SIGTERM');
    const code = await Promise.race([worker.exited, sleep(60_000).then(() => 'still running 60 s after SIGTERM')]);
    expect(code, worker.logs().slice(-6000)).toBe(0);
    const own = (worker.logs().match(/"msg":"restarting the consumer"/g) ?? []).length;
    const kafkajs = (worker.logs().match(/Restarting the consumer in/g) ?? []).length;
    console.log(`[faults] broker scenario: consumer restarts by kafkajs ${kafkajs}, by the worker after kafkajs gave up ${own}`);
    const f = { scenario: 'broker stop + restart mid-stream', faults: 1, events: ids.length, missing: r.missing.length, duplicated: r.duplicated.length, inBoth: r.inBoth.length, seconds: Math.round((Date.now() - started) / 1000) };
    report(f);
    expect(f.missing).toBe(0);
  }, TIMEOUT);
});
