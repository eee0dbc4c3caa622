// The outcome monitor under faults: SIGKILLs with restarts on the same store (both delivery modes), and a second
// monitor joining mid-stream and taking half the partitions. The figures must come out as an independent
// computation of the same rows; every joined id must be in the evaluated topic, exactly once with exactly-once.
import { describe, expect, it } from 'vitest';
import { testAdmin, testKafka } from '../helpers/kafka.js';
import { sampleEvents } from '../helpers/ledger.js';
import { type Figures, type MonitorTopics, type Outcome, expectedFigures, figureDifferences, monitorGet, monitorTopics, outcomesOf, produceOutcomes, readAll, shuffled } from '../helpers/monitor.js';
import { startInProcess } from '../helpers/service.js';
import { type WorkerProcess, spawnCli, waitFor } from '../helpers/worker.js';
import { FULL, TIMEOUT, between, sleep, stream } from './support.js';

const KILLS = Number(process.env.FAULT_MONITOR_KILLS ?? (FULL ? 5 : 2));
const EVENTS = FULL ? 20_000 : 8_000;
const BUNDLE = 'opportunity-scorer';
type Delivery = 'at-least-once' | 'exactly-once';

interface Run {
  readonly kafka: ReturnType<typeof testKafka>;
  readonly t: MonitorTopics;
  readonly events: Array<{ id: string }>;
  readonly outcomes: Outcome[];
  readonly version: string;
  readonly producing: Promise<void>;
}

/** Scorer in this process; events stream in while their outcomes follow, shuffled, a little behind. */
async function begin(): Promise<Run> {
  const kafka = testKafka();
  const t = await monitorTopics(await testAdmin(kafka));
  const events = sampleEvents(EVENTS, 'monf', { fresh: true });
  const outcomes = shuffled(outcomesOf(events), 11);
  const scorer = await startInProcess({ ...t.env, MODEL_REF: `${BUNDLE}@production` });
  const producing = Promise.all([
    stream(kafka, t.input, events, 1_000),
    sleep(2_000).then(async () => {
      for (let i = 0; i < outcomes.length; i += 500) {
        await produceOutcomes(kafka, t.outcomes, outcomes.slice(i, i + 500));
        await sleep(450);
      }
    }),
  ]).then(() => undefined);
  return { kafka, t, events, outcomes, version: scorer.engine.routing.primary.version, producing };
}

async function livePairs(m: WorkerProcess, version: string): Promise<Figures | undefined> {
  const r = await fetch(`http://127.0.0.1:${m.port}/models/${BUNDLE}/${version}/performance`).catch(() => undefined);
  return r?.ok === true ? ((await r.json()) as { live: Figures }).live : undefined;
}

/** The final checks: figures as computed independently, and the evaluated topic's ids (once each with exactly-once). */
async function settle(run: Run, monitors: readonly WorkerProcess[], delivery: Delivery, diagnose?: readonly WorkerProcess[]): Promise<{ duplicated: number; missing: number }> {
  const { kafka, t, events, outcomes, version } = run;
  const scored = await readAll(kafka, [t.output], (e) => new Set(e.map((x) => x.id)).size >= events.length);
  const expected = expectedFigures(scored, outcomes);
  for (const m of monitors) {
    let live: Figures | undefined;
    try {
      await waitFor('every outcome joined', async () => (live = await livePairs(m, version))?.pairs === expected.pairs, m, 240_000);
    } catch (err) {
      // What each monitor and the evaluated topic hold, to tell a lost pair from a slow one.
      const evaluated = await readAll(kafka, [t.evaluated]);
      const states = await Promise.all(monitors.map(async (x) => ({ pairs: (await livePairs(x, version))?.pairs, store: await monitorGet<unknown>(x.port, '/outcomes/unmatched?limit=20') })));
      console.log(`[monitor] expected ${expected.pairs} pairs; evaluated topic has ${new Set(evaluated.map((e) => e.id)).size} ids; monitors: ${JSON.stringify(states)}`);
      throw err;
    }
    expect(figureDifferences(live as Figures, expected)).toEqual([]);
  }
  const evaluated = await readAll(kafka, [t.evaluated], (e) => new Set(e.map((x) => x.id)).size >= expected.pairs);
  const counts = new Map<string, number>();
  for (const e of evaluated) counts.set(e.id as string, (counts.get(e.id as string) ?? 0) + 1);
  const missing = outcomes.filter((o) => !counts.has(o.id)).length;
  const duplicated = [...counts.values()].filter((n) => n > 1).length;
  if (duplicated > 0) {
    // Which records published a pair twice, and when: to tell a zombie's commit from a rebuild's.
    const twice = new Set([...counts].filter(([, n]) => n > 1).map(([id]) => id));
    const firstTwice = new Set([...twice].slice(0, 4));
    const sample = evaluated.filter((e) => firstTwice.has(e.id as string)).map((e) => {
      const v = JSON.parse(e.value.toString()) as { evaluatedAt: string; prediction: { source: unknown }; outcome: { source: unknown } };
      return { id: e.id, at: `${e.partition}:${e.offset}`, evaluatedAt: v.evaluatedAt, p: v.prediction.source, o: v.outcome.source };
    });
    console.log(`[monitor] duplicated pairs, e.g. ${JSON.stringify(sample)}`);
    // What the monitors said about joins, settling, retries and catch-ups, to tell which path published twice.
    for (const [i, m] of (diagnose ?? []).entries()) {
      const lines = m.logs().split('\n').filter((l) => /joined the consumer group|skipping records|failed; retrying|caught up|"level":"(warn|error)"/.test(l));
      console.log(`[monitor] process ${i}:\n${lines.map((l) => l.slice(0, 400)).join('\n')}`);
    }
  }
  console.log(`[faults] ${JSON.stringify({ scenario: `monitor (${delivery})`, events: events.length, pairs: expected.pairs, evaluated: evaluated.length, missing, duplicated })}`);
  return { duplicated, missing };
}

describe('fault suite: outcome monitor', () => {
  for (const delivery of ['exactly-once', 'at-least-once'] as const) {
    it(`${delivery}: ${KILLS} SIGKILLs of the monitor mid-stream, each restarted on its store: the same figures, nothing missing${delivery === 'exactly-once' ? ', no pair twice' : ''}`, async () => {
      const run = await begin();
      const env = { ...run.t.monitorEnv('killed'), DELIVERY: delivery, OUTCOME_WAIT_MS: '600000', LOG_LEVEL: 'info' };
      const all: WorkerProcess[] = [];
      for (let k = 0; k < KILLS; k++) {
        const m = await spawnCli(['monitor'], env);
        all.push(m);
        await m.waitReady(90_000);
        await sleep(between(1_000, 4_000));
        m.signal('SIGKILL');
        await m.exited;
      }
      const last = await spawnCli(['monitor'], env);
      all.push(last);
      await last.waitReady(90_000);
      await run.producing;
      const r = await settle(run, [last], delivery, all);
      expect(r.missing).toBe(0);
      if (delivery === 'exactly-once') expect(r.duplicated).toBe(0);
      last.signal('SIGTERM');
      expect(await last.exited).toBe(0);
    }, TIMEOUT);
  }

  it('a second monitor joining mid-stream takes half the partitions and rebuilds their state: both report the same figures, nothing missing, no pair twice (exactly-once)', async () => {
    const run = await begin();
    const env = (store: string): Record<string, string> => ({ ...run.t.monitorEnv(store), DELIVERY: 'exactly-once', OUTCOME_WAIT_MS: '600000', LOG_LEVEL: 'warn' });
    const a = await spawnCli(['monitor'], env('a'));
    await a.waitReady(90_000);
    await sleep(6_000);
    const b = await spawnCli(['monitor'], env('b'));
    await b.waitReady(90_000);
    await run.producing;
    const partitions = async (m: WorkerProcess): Promise<number[]> => (await monitorGet<{ partitions: number[] }>(m.port, '/outcomes/unmatched?limit=0')).partitions.sort();
    await waitFor('the partitions split', async () => (await partitions(a)).length === 2 && (await partitions(b)).length === 2, a, 60_000);
    expect([...(await partitions(a)), ...(await partitions(b))].sort()).toEqual([0, 1, 2, 3]);
    const r = await settle(run, [a, b], 'exactly-once', [a, b]);
    expect(r.missing).toBe(0);
    expect(r.duplicated).toBe(0);
    a.signal('SIGTERM');
    b.signal('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
  }, TIMEOUT);
});
