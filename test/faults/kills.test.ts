// SIGKILL of a worker at random moments, each followed by a restart, while events stream in.
import { describe, expect, it } from 'vitest';
import { testAdmin, testKafka } from '../helpers/kafka.js';
import { sampleEvents } from '../helpers/ledger.js';
import { workerTopics } from '../helpers/service.js';
import { spawnWorker } from '../helpers/worker.js';
import { FULL, IN_FLIGHT_PER_KILL, TIMEOUT, type Figures, audit, between, figures, sleep, stream } from './support.js';

const KILLS = Number(process.env.FAULT_KILLS ?? (FULL ? 20 : 2));
const EOS_KILLS = Number(process.env.FAULT_EOS_KILLS ?? (FULL ? 10 : 2));

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
  await producing;
  const ids = events.map((e) => e.id);
  const r = await audit(kafka, topics, ids);
  last.signal('SIGTERM');
  expect(await last.exited).toBe(0);
  return figures(`SIGKILL + restart (${delivery})`, kills, ids, r, started);
}

describe('fault suite: kills', () => {
  it(`at-least-once: ${KILLS} SIGKILLs at random moments, each followed by a restart: nothing lost, repeats bounded by what was in flight`, async () => {
    const f = await killLoop('at-least-once', KILLS);
    expect(f.missing).toBe(0);
    expect(f.inBoth).toBe(0);
    expect(f.duplicated).toBeLessThanOrEqual(KILLS * IN_FLIGHT_PER_KILL);
  }, TIMEOUT);

  it(`exactly-once: ${EOS_KILLS} SIGKILLs with restarts: nothing lost, nothing duplicated`, async () => {
    const f = await killLoop('exactly-once', EOS_KILLS);
    expect(f.missing).toBe(0);
    expect(f.duplicated).toBe(0);
    expect(f.inBoth).toBe(0);
  }, TIMEOUT);
});
