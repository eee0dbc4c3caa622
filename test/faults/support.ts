// Shared by the fault suite's scenarios: a steady background producer, the ledger audit, the figures each scenario
// prints (RELIABILITY.md records them from a full run), a reader of a worker's own /metrics and ACL faults.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type AclEntry, type AclOperationTypes, AclPermissionTypes, type AclResourceTypes, type Admin, Kafka, type Producer, ResourcePatternTypes, logLevel } from 'kafkajs';
import { onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { SASL_PASSWORD, SASL_USER, clientEnv, createTopics, testSaslBrokers, uniqueName } from '../helpers/kafka.js';
import { type LedgerEntry, type LedgerReport, ledgerReport, readLedger } from '../helpers/ledger.js';
import type { Topics } from '../helpers/service.js';
import { type WorkerProcess, freePort } from '../helpers/worker.js';

export { sleep };

/** `npm run test:faults` sets FAULT_PROFILE=full; `npm test` runs every scenario reduced. */
export const FULL = process.env.FAULT_PROFILE === 'full';
/** Per test: the full profile runs for minutes. */
export const TIMEOUT = FULL ? 1_200_000 : 300_000;

export const between = (lo: number, hi: number): number => lo + Math.random() * (hi - lo);

const DEFAULTS = loadConfig({ env: {} });
/**
 * What one at-least-once kill may repeat: the chunks written but not yet committed, one per partition processed
 * concurrently (defaults: BATCH_MAX_SIZE × CONSUMER_CONCURRENCY).
 */
export const IN_FLIGHT_PER_KILL = DEFAULTS.batch.maxSize * DEFAULTS.consumer.concurrency;

/**
 * Whether a member that loses partitions in a rebalance (not a kill) can repeat what it published but had not yet
 * committed. kafkajs commits before it rejoins, so only a kill repeats. The platformatic adapter commits in the
 * background and never at a rebalance (the client would send that commit with the next generation and overwrite a
 * moved partition's progress), so every rebalance may repeat up to one chunk per partition it was processing.
 */
export const REBALANCE_REPEATS = loadConfig({ env: { ...clientEnv() } }).kafka.client === 'platformatic';

/** Produces the events at a steady pace in the background (so faults land mid-stream); resolves when all are acked. */
export async function stream(kafka: Kafka, topic: string, events: ReadonlyArray<{ id: string }>, perSecond: number, encode: (e: { id: string }) => Buffer | string = (e) => JSON.stringify(e)): Promise<void> {
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 30, maxRetryTime: 2_000 } });
  await producer.connect();
  try {
    const tick = 100;
    const per = Math.max(1, Math.round((perSecond * tick) / 1000));
    for (let i = 0; i < events.length; i += per) {
      const t0 = Date.now();
      await producer.send({ topic, acks: -1, messages: events.slice(i, i + per).map((e) => ({ key: e.id, value: encode(e) })) });
      await sleep(Math.max(0, tick - (Date.now() - t0)));
    }
  } finally {
    await producer.disconnect();
  }
}

export interface Figures {
  readonly scenario: string;
  readonly faults: number;
  readonly events: number;
  readonly missing: number;
  readonly duplicated: number;
  readonly inBoth: number;
  readonly seconds: number;
}

/**
 * The ledger over the output and dead-letter topics, once every expected id has arrived (or after `timeoutMs`), with
 * the records it read.
 */
export async function audit(kafka: Kafka, topics: Pick<Topics, 'output' | 'dlq'>, ids: readonly string[], timeoutMs = 180_000): Promise<LedgerReport & { entries: LedgerEntry[] }> {
  const entries = await readLedger(kafka, [topics.output, topics.dlq], (es) => new Set(es.map((e) => e.id)).size >= ids.length, timeoutMs, 3_000);
  return { ...ledgerReport(entries, topics.output, ids), entries };
}

/** A scenario's figures, printed as one line `[faults] {…}`: what RELIABILITY.md records. */
export function figures(scenario: string, faults: number, ids: readonly string[], r: LedgerReport, started: number): Figures {
  const f = { scenario, faults, events: ids.length, missing: r.missing.length, duplicated: r.duplicated.length, inBoth: r.inBoth.length, seconds: Math.round((Date.now() - started) / 1000) };
  console.log(`[faults] ${JSON.stringify(f)}`);
  return f;
}

/** The sum of a metric's samples on a worker's /metrics whose labels include `labels` (0 when absent). */
export async function metricValue(worker: WorkerProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m?.[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l): [string, string] => [l[1] ?? '', l[2] ?? '']));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

/** A worker's environment on the SASL listener, as SASL_USER, so ACLs can take access away from it mid-stream. */
export function saslEnv(env: Record<string, string>): Record<string, string> {
  return { ...env, KAFKA_BROKERS: testSaslBrokers(), KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: SASL_USER, KAFKA_SASL_PASSWORD: SASL_PASSWORD };
}

/**
 * Denies SASL_USER `operation` on a group or topic until the returned function lifts it (also lifted when the test
 * ends). Faults made this way touch only the worker: the broker's own writes (transaction markers) go on.
 */
export async function deny(admin: Admin, resourceType: AclResourceTypes.GROUP | AclResourceTypes.TOPIC, resourceName: string, operation: AclOperationTypes): Promise<() => Promise<void>> {
  const acl: AclEntry = { resourceType, resourceName, resourcePatternType: ResourcePatternTypes.LITERAL, principal: `User:${SASL_USER}`, host: '*', operation, permissionType: AclPermissionTypes.DENY };
  await admin.createAcls({ acl: [acl] }).catch((err: unknown) => {
    throw new Error(`the broker refused an ACL (it needs an authorizer on; the local JVM broker has one): ${String(err)}`);
  });
  let lifted = false;
  const lift = async (): Promise<void> => {
    if (lifted) return;
    lifted = true;
    await admin.deleteAcls({ filters: [acl] });
  };
  onTestFinished(() => lift().catch(() => undefined));
  return lift;
}


const KAFKA_SCRIPT = fileURLToPath(new URL('../../scripts/kafka/kafka.sh', import.meta.url));

/**
 * A broker of the test's own (the shared one must stay up for the other suites), stopped and removed at the end, with
 * a client, fresh input/output/dead-letter topics (4 partitions) and the worker environment for them.
 */
export async function ownBroker(): Promise<{ readonly address: string; readonly kafka: Kafka; readonly topics: Topics; stop(): void; start(): void }> {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), 'kafka-fault-'));
  const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(await freePort()), KAFKA_STATE_DIR: state };
  const broker = (cmd: 'start' | 'stop'): void => {
    const r = spawnSync('bash', [KAFKA_SCRIPT, cmd], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`kafka.sh ${cmd} failed (these scenarios need the project's local broker: Java 17+ and Maven):\n${r.stderr}`);
  };
  broker('start');
  onTestFinished(() => {
    broker('stop');
    rmSync(state, { recursive: true, force: true });
  });
  const address = `127.0.0.1:${port}`;
  const kafka = new Kafka({ clientId: uniqueName('fault'), brokers: [address], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const names = { input: uniqueName('in'), output: uniqueName('out'), dlq: uniqueName('dlq'), group: uniqueName('group') };
  await createTopics(admin, [names.input, names.output, names.dlq], 4);
  await admin.disconnect();
  const workerEnv = { KAFKA_BROKERS: address, INPUT_TOPICS: names.input, OUTPUT_TOPIC: names.output, DLQ_TOPIC: names.dlq, CONSUMER_GROUP: names.group };
  return { address, kafka, topics: { ...names, env: workerEnv }, stop: () => broker('stop'), start: () => broker('start') };
}
