import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { outcomesReplayCommand } from '../../../src/cli/outcomes-command.js';
import { loadConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/logging/index.js';
import { MonitorService } from '../../../src/service/index.js';
import { clientEnv, createTopics, testAdmin, testKafka } from '../../helpers/kafka.js';
import { produceJson, sampleEvents } from '../../helpers/ledger.js';
import { type Figures, type Outcome, expectedFigures, figureDifferences, monitorGet, monitorTopics, outcomesOf, produceOutcomes, readAll, shuffled } from '../../helpers/monitor.js';
import { startInProcess } from '../../helpers/service.js';
import { until } from '../../helpers/wait.js';

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

    // In this process (the fault suite runs it as the CLI): the same service `opportunity-scorer monitor` starts.
    const config = loadConfig({ env: { ...clientEnv(), ...t.monitorEnv('a'), OUTCOME_WAIT_MS: '2000', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', LOG_LEVEL: 'warn' } });
    const logger = createLogger({ level: 'warn', pretty: false });
    const service = await MonitorService.start({ config, logger, version: 'test' });
    onTestFinished(() => service.close());
    const monitor = { port: Number(new URL(service.url).port) };
    await until('readiness', async () => (await fetch(`${service.url}/ready`)).ok, 60_000);
    // Outcomes that arrive before their predictions wait in the store: the ghosts through POST /outcomes (as a
    // trader's system would report them), the others on the topic.
    await produceOutcomes(kafka, t.outcomes, early);
    for (let i = 0; i < ghosts.length; i += 100) {
      const r = await fetch(`${service.url}/outcomes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ghosts.slice(i, i + 100)) });
      expect(r.status).toBe(202);
    }
    await until('early outcomes waiting or unmatched', async () => {
      const u = await monitorGet<Unmatched>(monitor.port, '/outcomes/unmatched?limit=0');
      return u.counts.waiting + (u.counts.unmatched.no_prediction ?? 0) === early.length + ghosts.length;
    }, 60_000);

    const scorer = await startInProcess({ ...t.env, MODEL_REF: `${BUNDLE}@production` });
    await produceJson(kafka, t.input, events);
    // The rest through `outcomes replay` (the demo's command), from a file with the label columns it reads.
    const dir = mkdtempSync(join(tmpdir(), 'outcomes-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const lateIds = new Set(late.map((o) => o.id));
    writeFileSync(join(dir, 'late.jsonl'), `${events.filter((e) => lateIds.has(e.id)).map((e) => JSON.stringify(e)).join('\n')}\n{not json\n`);
    const abort = new AbortController();
    expect(await outcomesReplayCommand({ file: join(dir, 'late.jsonl'), topic: t.outcomes, rate: '20000' }, config, logger, abort.signal)).toBe(0);

    const version = scorer.engine.routing.primary.version;
    let live: Figures | undefined;
    await until('every outcome joined', async () => {
      const r = await fetch(`http://127.0.0.1:${monitor.port}/models/${BUNDLE}/${version}/performance`);
      if (!r.ok) return false;
      live = ((await r.json()) as { live: Figures }).live;
      return live.pairs === outcomes.length;
    }, 180_000);

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
    await until('ghosts unmatched', async () => (await monitorGet<Unmatched>(monitor.port, '/outcomes/unmatched?limit=0')).counts.unmatched.no_prediction === ghosts.length, 30_000);
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
    await service.close();
    expect(service.lifecycle.state).toBe('stopped');
  }, 420_000);

  it('refuses to start on topics with unequal partition counts, saying how to fix it, and leaves nothing open', async () => {
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const t = await monitorTopics(admin, 2);
    const outcomes = `${t.outcomes}-4`;
    await createTopics(admin, [outcomes], 4);
    onTestFinished(() => admin.deleteTopics({ topics: [outcomes] }).catch(() => undefined));
    const config = loadConfig({ env: { ...clientEnv(), ...t.monitorEnv('x'), OUTCOMES_TOPIC: outcomes, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', LOG_LEVEL: 'silent' } });
    const err = await MonitorService.start({ config, logger: createLogger({ level: 'silent', pretty: false }), version: 'test' }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain(`${outcomes} has 4`);
    expect(err?.message).toContain('Recreate the others with 2 partitions');
    const [group] = (await admin.describeGroups([t.monitorGroup])).groups;
    expect(group?.members ?? []).toEqual([]);
  });
});
