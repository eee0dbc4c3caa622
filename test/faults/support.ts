// Shared by the fault suite's scenarios: a steady background producer, the ledger audit, the figures each scenario
// prints (RELIABILITY.md records them from a full run) and a reader of a worker's own /metrics.
import { setTimeout as sleep } from 'node:timers/promises';
import { type AclEntry, AclOperationTypes, AclPermissionTypes, AclResourceTypes, type Admin, type Kafka, type Producer, ResourcePatternTypes } from 'kafkajs';
import { inject, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { type LedgerReport, ledgerReport, readLedger } from '../helpers/ledger.js';
import type { Topics } from '../helpers/service.js';
import type { WorkerProcess } from '../helpers/worker.js';

export { sleep };

/** `npm run test:faults` sets FAULT_PROFILE=full; `npm test` runs every scenario reduced. */
export const FULL = process.env.FAULT_PROFILE === 'full';
/** Per test: the full profile runs for minutes. */
export const TIMEOUT = FULL ? 1_200_000 : 300_000;

export const between = (lo: number, hi: number): number => lo + Math.random() * (hi - lo);

/**
 * What one at-least-once kill may repeat: the chunks written but not yet committed, one per partition processed
 * concurrently (defaults: BATCH_MAX_SIZE × CONSUMER_CONCURRENCY).
 */
export const IN_FLIGHT_PER_KILL = ((c) => c.batch.maxSize * c.consumer.concurrency)(loadConfig({ env: {} }));

/** Produces the events at a steady pace in the background (so faults land mid-stream); resolves when all are acked. */
export function stream(kafka: Kafka, topic: string, events: ReadonlyArray<{ id: string }>, perSecond: number): { done: Promise<void>; sent: () => number } {
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

export interface Figures {
  readonly scenario: string;
  readonly faults: number;
  readonly events: number;
  readonly missing: number;
  readonly duplicated: number;
  readonly inBoth: number;
  readonly seconds: number;
}

/** One line per scenario, `[faults] {…}`: the figures RELIABILITY.md records. */
export function report(f: Figures): Figures {
  console.log(`[faults] ${JSON.stringify(f)}`);
  return f;
}

/** The ledger over the output and dead-letter topics, once every expected id has arrived (or after `timeoutMs`). */
export async function audit(kafka: Kafka, topics: Pick<Topics, 'output' | 'dlq'>, ids: readonly string[], timeoutMs = 180_000): Promise<LedgerReport> {
  const entries = await readLedger(kafka, [topics.output, topics.dlq], (es) => new Set(es.map((e) => e.id)).size >= ids.length, timeoutMs, 3_000);
  return ledgerReport(entries, topics.output, ids);
}

export function figures(scenario: string, faults: number, ids: readonly string[], r: LedgerReport, started: number): Figures {
  return report({ scenario, faults, events: ids.length, missing: r.missing.length, duplicated: r.duplicated.length, inBoth: r.inBoth.length, seconds: Math.round((Date.now() - started) / 1000) });
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

/** Polls `check` until it holds, or fails after `timeoutMs` with `what` and the worker's recent log. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, worker: WorkerProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (worker.proc.exitCode !== null) throw new Error(`worker exited with ${worker.proc.exitCode} while waiting for ${what}:\n${worker.logs().slice(-3000)}`);
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${worker.logs().slice(-3000)}`);
}

/** The user of the broker's SASL listener: held to ACLs (resources without any stay open to it). */
export const SASL_USER = 'scorer';

/** A worker's environment on the SASL listener, as SASL_USER, so ACLs can take access away from it mid-stream. */
export function saslEnv(env: Record<string, string>): Record<string, string> {
  const brokers = inject('kafkaSaslBrokers');
  if (brokers === '') {
    throw new Error('No SASL listener with ACLs: the local JVM broker provides one; with KAFKA_BROKERS or Docker set KAFKA_SASL_BROKERS (user scorer / scorer-secret, SCRAM, an authorizer on).');
  }
  return { ...env, KAFKA_BROKERS: brokers, KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: SASL_USER, KAFKA_SASL_PASSWORD: 'scorer-secret' };
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

export { AclOperationTypes, AclResourceTypes };

export const isReady = (worker: WorkerProcess): Promise<boolean> => fetch(`http://127.0.0.1:${worker.port}/ready`).then((r) => r.ok, () => false);
