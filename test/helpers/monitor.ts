import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { onTestFinished } from 'vitest';
import { brier, calibrationError, logLoss, meanAbsoluteError, precisionAtK, rocAuc } from '../../src/evaluation/index.js';
import { outcomeOfSample } from '../../src/cli/outcomes-command.js';
import { type LedgerEntry, readTopics } from '../../src/ledger/index.js';
import { createTopics, kafkaJsPort, testBrokers, uniqueName } from './kafka.js';
import { type Topics, workerTopics } from './service.js';

export interface MonitorTopics extends Topics {
  readonly outcomes: string;
  readonly evaluated: string;
  readonly outcomesDlq: string;
  readonly monitorGroup: string;
  /** A fresh directory for join stores, removed when the test finishes. */
  readonly stateDir: string;
  /** Environment for a monitor on these topics (besides the worker's). */
  readonly monitorEnv: (storeName: string) => Record<string, string>;
}

/** The scorer's topics plus the monitor's, all with `partitions`, deleted when the test finishes. */
export async function monitorTopics(admin: Admin, partitions = 4): Promise<MonitorTopics> {
  const topics = await workerTopics(admin, partitions);
  const outcomes = uniqueName('outcomes');
  const evaluated = uniqueName('evaluated');
  const outcomesDlq = uniqueName('outcomes-dlq');
  await createTopics(admin, [outcomes, evaluated, outcomesDlq], partitions);
  onTestFinished(async () => {
    await admin.deleteTopics({ topics: [outcomes, evaluated, outcomesDlq] }).catch(() => undefined);
  });
  const stateDir = mkdtempSync(join(tmpdir(), 'monitor-'));
  onTestFinished(() => rmSync(stateDir, { recursive: true, force: true }));
  const monitorGroup = uniqueName('monitor');
  return {
    ...topics,
    outcomes,
    evaluated,
    outcomesDlq,
    monitorGroup,
    stateDir,
    monitorEnv: (storeName) => ({
      KAFKA_BROKERS: testBrokers().join(','),
      OUTPUT_TOPIC: topics.output,
      OUTCOMES_TOPIC: outcomes,
      EVALUATED_TOPIC: evaluated,
      OUTCOMES_DLQ_TOPIC: outcomesDlq,
      MONITOR_GROUP: monitorGroup,
      MONITOR_STORE_PATH: join(stateDir, `${storeName}.sqlite`),
      CONSUMER_SESSION_TIMEOUT_MS: '8000',
    }),
  };
}

export type Outcome = Record<string, unknown> & { id: string; closedAt: number; realisedProfitPercent: number; holdHours: number; success?: boolean };

/** The outcome of each event from its label columns (events without labels have none). */
export function outcomesOf(events: ReadonlyArray<Record<string, unknown>>): Outcome[] {
  return events.flatMap((e): Outcome[] => {
    const o = outcomeOfSample(e);
    return o === undefined ? [] : [o as Outcome];
  });
}

/** Deterministic shuffle (xorshift), so a failing order can be reproduced. */
export function shuffled<T>(items: readonly T[], seed = 7): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = Math.abs(s) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export async function produceOutcomes(kafka: Kafka, topic: string, outcomes: readonly Outcome[]): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < outcomes.length; i += 1000) {
      await producer.send({ topic, messages: outcomes.slice(i, i + 1000).map((o) => ({ key: o.id, value: JSON.stringify(o) })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** GET a monitor route as JSON. */
export async function monitorGet<T>(port: number, path: string): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

export interface Figures {
  readonly pairs: number;
  readonly brier: number;
  readonly logLoss: number;
  readonly calibrationError: number;
  readonly rocAuc: number;
  readonly precisionAtTopDecile: number;
  readonly profitMae: number;
  readonly durationMae: number;
  readonly take: { readonly count: number; readonly totalRealisedProfitPercent: number };
  readonly heuristic: { readonly rocAuc: number };
}

/**
 * The live figures computed independently of the monitor: the scored records as the scored topic has them, joined
 * here with the outcomes the test sent, in the window's order (closedAt, then id).
 */
export function expectedFigures(scored: readonly LedgerEntry[], outcomes: readonly Outcome[]): Figures {
  const byId = new Map<string, Record<string, unknown>>();
  for (const e of scored) {
    const r = JSON.parse(e.value.toString()) as Record<string, unknown>;
    if (!byId.has(r.id as string)) byId.set(r.id as string, r);
  }
  const rows = outcomes
    .filter((o) => byId.has(o.id))
    .map((o) => ({ o, p: byId.get(o.id) as Record<string, number | boolean> }))
    .sort((a, b) => a.o.closedAt - b.o.closedAt || (a.o.id < b.o.id ? -1 : 1));
  const n = rows.length;
  const p = rows.map((r) => r.p.successProbability as number);
  const y = rows.map((r) => ((r.o.success ?? r.o.realisedProfitPercent > 0) ? 1 : 0));
  const taken = rows.filter((r) => r.p.take === true);
  return {
    pairs: n,
    brier: brier(p, y),
    logLoss: logLoss(p, y),
    calibrationError: calibrationError(p, y),
    rocAuc: rocAuc(p, y),
    precisionAtTopDecile: precisionAtK(rows.map((r) => r.p.rankScore as number), y, Math.max(1, Math.floor(n / 10))),
    profitMae: meanAbsoluteError(rows.map((r) => r.p.predictedProfitPercent as number), rows.map((r) => r.o.realisedProfitPercent)),
    durationMae: meanAbsoluteError(rows.map((r) => r.p.predictedDurationHours as number), rows.map((r) => r.o.holdHours)),
    take: { count: taken.length, totalRealisedProfitPercent: taken.reduce((s, r) => s + r.o.realisedProfitPercent, 0) },
    heuristic: { rocAuc: rocAuc(rows.map((r) => r.p.fundingDifferential as number), y) },
  };
}

/** Every record of the topics, read_committed, once `until` holds. */
export function readAll(kafka: Kafka, topics: readonly string[], until?: (entries: readonly LedgerEntry[]) => boolean): Promise<LedgerEntry[]> {
  return readTopics(kafkaJsPort(kafka), topics, { until, idleMs: 3_000, timeoutMs: 180_000 });
}

/** The figures compared field by field within `tolerance`. */
export function figureDifferences(live: Figures, expected: Figures, tolerance = 1e-9): string[] {
  const flat = (f: Figures): Record<string, number> => ({
    pairs: f.pairs,
    brier: f.brier,
    logLoss: f.logLoss,
    calibrationError: f.calibrationError,
    rocAuc: f.rocAuc,
    precisionAtTopDecile: f.precisionAtTopDecile,
    profitMae: f.profitMae,
    durationMae: f.durationMae,
    takeCount: f.take.count,
    takeTotal: f.take.totalRealisedProfitPercent,
    heuristicRocAuc: f.heuristic.rocAuc,
  });
  const a = flat(live);
  const b = flat(expected);
  return Object.keys(b).filter((k) => !(Math.abs((a[k] ?? Number.NaN) - (b[k] ?? Number.NaN)) <= tolerance)).map((k) => `${k}: live ${a[k]} vs expected ${b[k]}`);
}
