// SIGTERM under load: each worker is stopped while it works through a stream, then replaced. A drain publishes and
// commits everything it read before leaving the group, so even at-least-once repeats nothing.
import { describe, expect, it } from 'vitest';
import { testAdmin, testKafka } from '../helpers/kafka.js';
import { produceJson, sampleEvents } from '../helpers/ledger.js';
import { workerTopics } from '../helpers/service.js';
import { spawnWorker } from '../helpers/worker.js';
import { FULL, TIMEOUT, audit, between, figures, sleep, stream } from './support.js';

describe('fault suite: SIGTERM under load', () => {
  it('workers stopped with SIGTERM mid-stream and replaced: each drains and exits 0; nothing lost, nothing repeated', async () => {
    const started = Date.now();
    const kafka = testKafka();
    const topics = await workerTopics(await testAdmin(kafka));
    const env = { ...topics.env, SHUTDOWN_GRACE_MS: '20000' };
    const rounds = FULL ? 10 : 2;
    // A backlog first, so the first workers are busy (not idle) when they are told to stop, then a steady stream.
    const backlog = sampleEvents(20_000, 'term-backlog');
    await produceJson(kafka, topics.input, backlog);
    const streamed = sampleEvents(rounds * 16_000, 'term');
    const producing = stream(kafka, topics.input, streamed, 4_000);
    for (let i = 0; i < rounds; i++) {
      const w = await spawnWorker(env);
      await w.waitReady(90_000);
      await sleep(between(500, 2_500));
      w.signal('SIGTERM');
      expect(await w.exited, w.logs().slice(-3000)).toBe(0);
      expect(w.logs()).toContain('"state":"stopped"');
    }
    await producing;
    const last = await spawnWorker(env);
    await last.waitReady(90_000);
    const ids = [...backlog, ...streamed].map((e) => e.id);
    const r = await audit(kafka, topics, ids);
    last.signal('SIGTERM');
    expect(await last.exited).toBe(0);
    const f = figures('SIGTERM under load, then a restart (at-least-once)', rounds, ids, r, started);
    expect(f.missing).toBe(0);
    expect(f.duplicated).toBe(0);
    expect(f.inBoth).toBe(0);
  }, TIMEOUT);
});
