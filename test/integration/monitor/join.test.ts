import { describe, expect, it } from 'vitest';
import { testAdmin, testKafka } from '../../helpers/kafka.js';
import { produceJson, sampleEvents } from '../../helpers/ledger.js';
import { type Figures, type Outcome, expectedFigures, figureDifferences, monitorGet, monitorTopics, outcomesOf, produceOutcomes, readAll, shuffled } from '../../helpers/monitor.js';
import { startInProcess } from '../../helpers/service.js';
import { spawnCli, waitFor } from '../../helpers/worker.js';

interface Unmatched {
  readonly partitions: number[];
  readonly counts: { readonly waiting: number; readonly unmatched: Record<string, number> };
  readonly unmatched: Array<{ id: string; reason: string }>;
}

const BUNDLE = 'opportunity-scorer';

describe('outcome monitor', () => {
  it('joins 20,000 scored events with their shuffled outcomes (10 % early, 2 % with no prediction): live figures equal an independent computation, every id accounted for', async () => {
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const t = await monitorTopics(admin);
    const events = sampleEvents(20_000, 'mon', { fresh: true });
    const outcomes = outcomesOf(events);
    const ghosts: Outcome[] = Array.from({ length: Math.round(outcomes.length * 0.02) }, (_, i) => ({ ...(outcomes[i] as Outcome), id: `ghost-${i}` }));
    const order = shuffled(outcomes);
    const early = order.slice(0, Math.round(order.length * 0.1));
    const late = order.slice(early.length);

    const monitor = await spawnCli(['monitor'], { ...t.monitorEnv('a'), OUTCOME_WAIT_MS: '2000', LOG_LEVEL: 'warn' });
    await monitor.waitReady(90_000);
    // Outcomes that arrive before their predictions: they wait in the store.
    await produceOutcomes(kafka, t.outcomes, [...early, ...ghosts]);
    await waitFor('early outcomes waiting or unmatched', async () => {
      const u = await monitorGet<Unmatched>(monitor.port, '/outcomes/unmatched?limit=0');
      return u.counts.waiting + (u.counts.unmatched.no_prediction ?? 0) === early.length + ghosts.length;
    }, monitor, 60_000);

    const scorer = await startInProcess({ ...t.env, MODEL_REF: `${BUNDLE}@production` });
    await produceJson(kafka, t.input, events);
    await produceOutcomes(kafka, t.outcomes, late);

    const version = scorer.engine.routing.primary.version;
    let live: Figures | undefined;
    await waitFor('every outcome joined', async () => {
      const r = await fetch(`http://127.0.0.1:${monitor.port}/models/${BUNDLE}/${version}/performance`);
      if (!r.ok) return false;
      live = ((await r.json()) as { live: Figures }).live;
      return live.pairs === outcomes.length;
    }, monitor, 180_000);

    const scored = await readAll(kafka, [t.output], (e) => e.length >= events.length);
    const diff = figureDifferences(live as Figures, expectedFigures(scored, outcomes));
    expect(diff).toEqual([]);

    // Every id: joined exactly once in the evaluated topic, or unmatched with a reason.
    const evaluated = await readAll(kafka, [t.evaluated], (e) => new Set(e.map((x) => x.id)).size >= outcomes.length);
    const counts = new Map<string, number>();
    for (const e of evaluated) counts.set(e.id as string, (counts.get(e.id as string) ?? 0) + 1);
    expect(counts.size).toBe(outcomes.length);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    expect(outcomes.filter((o) => !counts.has(o.id))).toEqual([]);
    await waitFor('ghosts unmatched', async () => (await monitorGet<Unmatched>(monitor.port, '/outcomes/unmatched?limit=0')).counts.unmatched.no_prediction === ghosts.length, monitor, 30_000);
    const u = await monitorGet<Unmatched>(monitor.port, `/outcomes/unmatched?limit=${ghosts.length + 10}`);
    expect(u.unmatched.map((x) => x.id).sort()).toEqual(ghosts.map((g) => g.id).sort());
    expect(new Set(u.unmatched.map((x) => x.reason))).toEqual(new Set(['no_prediction']));
    expect(u.counts.waiting).toBe(0);

    // The seed-003 view of the same figures.
    const seed = await monitorGet<{ model_id: string; versions: Figures[] }>(monitor.port, `/api/ml/performance/${BUNDLE}`);
    expect(seed.versions.map((v) => v.pairs)).toEqual([outcomes.length]);
    const metrics = await (await fetch(`http://127.0.0.1:${monitor.port}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`opportunity_scorer_live_pairs\\{bundle="${BUNDLE}",version="${version}"\\} ${outcomes.length}`));
    expect(metrics).toContain('opportunity_scorer_card_calibration_error{');
    monitor.signal('SIGTERM');
    expect(await monitor.exited).toBe(0);
  }, 420_000);
});
