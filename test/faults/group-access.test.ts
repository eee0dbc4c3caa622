// The consumer group's access revoked mid-stream, then restored (a bad ACL change, fixed by an operator). kafkajs
// treats GROUP_AUTHORIZATION_FAILED as non-retriable and gives up on the consumer for good, so this is the
// deterministic test of the worker's own consumer restart: it must keep retrying (readiness off) and resume with
// nothing lost once access is back, without a redeploy.
import { AclOperationTypes, AclResourceTypes } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { loadConfig } from '../../src/config/index.js';
import { hasCode } from '../../src/errors.js';
import { createLogger } from '../../src/logging/index.js';
import { ScorerService } from '../../src/service/index.js';
import { clientEnv, testAdmin, testKafka } from '../helpers/kafka.js';
import { sampleEvents } from '../helpers/ledger.js';
import { workerTopics } from '../helpers/service.js';
import { freePort, isReady, spawnWorker, waitFor } from '../helpers/worker.js';
import { FULL, IN_FLIGHT_PER_KILL, TIMEOUT, audit, between, deny, figures, metricValue, saslEnv, sleep, stream } from './support.js';

const RESTARTS = 'opportunity_scorer_consumer_restarts_total';

describe('fault suite: consumer group access', () => {
  it('group access revoked mid-stream and restored: the worker restarts its consumer itself, nothing lost', async () => {
    const started = Date.now();
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const topics = await workerTopics(admin);
    const worker = await spawnWorker(saslEnv(topics.env));
    await worker.waitReady(90_000);
    const revocations = FULL ? 4 : 1;
    const events = sampleEvents(FULL ? 40_000 : 12_000, 'acl');
    const producing = stream(kafka, topics.input, events, 2_000);
    for (let i = 0; i < revocations; i++) {
      await sleep(between(1_000, 2_500));
      const restarts = await metricValue(worker, RESTARTS, { by: 'worker' });
      const restore = await deny(admin, AclResourceTypes.GROUP, topics.group, AclOperationTypes.READ);
      // kafkajs gives up on the consumer; the worker's own restarts keep failing while access is denied.
      await waitFor('a failed consumer restart by the worker', async () => (await metricValue(worker, RESTARTS, { by: 'worker' })) >= restarts + 1 && !(await isReady(worker)), worker);
      await sleep(FULL ? 8_000 : 3_000);
      expect(await isReady(worker)).toBe(false);
      await restore();
      await waitFor('readiness after access was restored', () => isReady(worker), worker, 90_000);
    }
    await producing;
    const ids = events.map((e) => e.id);
    const r = await audit(kafka, topics, ids);
    const byWorker = await metricValue(worker, RESTARTS, { by: 'worker' });
    worker.signal('SIGTERM');
    expect(await worker.exited, worker.logs().slice(-3000)).toBe(0);
    const f = figures('consumer group access revoked, then restored', revocations, ids, r, started);
    console.log(`[faults] group access: consumer restarts by the worker ${byWorker}`);
    expect(f.missing).toBe(0);
    expect(f.inBoth).toBe(0);
    // Losing the group mid-chunk is like a kill: what was written but not committed may repeat.
    expect(f.duplicated).toBeLessThanOrEqual(revocations * IN_FLIGHT_PER_KILL);
    expect(byWorker).toBeGreaterThanOrEqual(revocations);
  }, TIMEOUT);

  it('a worker denied its group at start-up fails fast with the reason (exit 1)', async () => {
    const admin = await testAdmin(testKafka());
    const topics = await workerTopics(admin);
    await deny(admin, AclResourceTypes.GROUP, topics.group, AclOperationTypes.READ);
    const worker = await spawnWorker(saslEnv(topics.env));
    expect(await worker.exited).toBe(1);
    // kafkajs reports the refusal as "Failed to find group coordinator"; the broker's answer is in its log line.
    expect(worker.logs()).toMatch(/\[KAFKA_UNAVAILABLE\] the consumer of group \S+ crashed while starting: .*check the group's ACLs/);
    expect(worker.logs()).toContain('Group authorization failed');
  });

  it('in process: a start denied its group closes its HTTP port and consumer again (nothing left running)', async () => {
    const admin = await testAdmin(testKafka());
    const topics = await workerTopics(admin);
    await deny(admin, AclResourceTypes.GROUP, topics.group, AclOperationTypes.READ);
    const port = await freePort();
    const config = loadConfig({ env: { ...saslEnv(topics.env), ...clientEnv(), HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), LOG_LEVEL: 'silent' } });
    const started = ScorerService.start({ config, logger: createLogger({ level: 'silent', pretty: false }), version: 'test', mode: 'run' });
    await expect(started).rejects.toSatisfy((err: unknown) => hasCode(err, 'KAFKA_UNAVAILABLE'));
    expect(await portIsFree(port)).toBe(true);
    expect((await admin.describeGroups([topics.group])).groups[0]?.members ?? []).toEqual([]);
  });
});

/** Whether this process can listen on the port now (nothing else holds it). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
