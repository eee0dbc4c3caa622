// The broker stopped mid-stream and started again on the same data, under a running worker.
import { describe, expect, it } from 'vitest';
import { sampleEvents } from '../helpers/ledger.js';
import { spawnWorker } from '../helpers/worker.js';
import { FULL, TIMEOUT, audit, figures, ownBroker, sleep, stream } from './support.js';

describe('fault suite: broker restart', () => {
  // Exactly-once: the broker's restart aborts open transactions; what they held is fetched and written again.
  it.each(['at-least-once', 'exactly-once'] as const)('%s: broker stopped and restarted mid-stream: the worker rides it out, nothing lost', async (delivery) => {
    const started = Date.now();
    const broker = await ownBroker();
    // Phases with times, so a slow or stuck step is visible in CI's output.
    const phase = (name: string): void => console.log(`[faults] broker scenario: ${name} at ${Math.round((Date.now() - started) / 1000)} s`);
    phase('broker started');
    const { kafka, topics } = broker;
    const worker = await spawnWorker({ ...topics.env, CONSUMER_SESSION_TIMEOUT_MS: '10000', DELIVERY: delivery });
    await worker.waitReady(90_000);
    const events = sampleEvents(FULL ? 40_000 : 15_000, `broker-${delivery}`);
    const first = events.slice(0, events.length / 2);
    const second = events.slice(events.length / 2);
    phase('worker ready');
    await stream(kafka, topics.input, first, 5_000);
    phase('first half produced');
    broker.stop();
    phase('broker stopped');
    await sleep(FULL ? 15_000 : 5_000);
    broker.start();
    phase('broker restarted');
    await stream(kafka, topics.input, second, 5_000);
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
    const f = figures(`broker stop + restart mid-stream (${delivery})`, 1, ids, r, started);
    expect(f.missing).toBe(0);
    expect(f.inBoth).toBe(0);
    if (delivery === 'exactly-once') expect(f.duplicated).toBe(0);
  }, TIMEOUT);
});
