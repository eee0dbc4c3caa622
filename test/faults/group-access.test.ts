// The consumer group's access revoked mid-stream, then restored (a bad ACL change, fixed by an operator). kafkajs
// treats GROUP_AUTHORIZATION_FAILED as non-retriable and gives up on the consumer for good, so this is the
// deterministic test of the worker's own consumer restart: it must keep retrying (readiness off) and resume with
// nothing lost once access is back, without a redeploy.
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { describe, expect, inject, it } from 'vitest';
import { testAdmin, testKafka } from '../helpers/kafka.js';
import { sampleEvents } from '../helpers/ledger.js';
import { workerTopics } from '../helpers/service.js';
import { spawnWorker } from '../helpers/worker.js';
import { FULL, IN_FLIGHT_PER_KILL, TIMEOUT, audit, between, figures, isReady, metricValue, sleep, stream, waitFor } from './support.js';

const USER = 'scorer';

function saslBrokers(): string {
  const brokers = inject('kafkaSaslBrokers');
  if (brokers === '') {
    throw new Error('No SASL listener with ACLs: the local JVM broker provides one; with KAFKA_BROKERS or Docker set KAFKA_SASL_BROKERS (user scorer / scorer-secret, SCRAM, an authorizer on).');
  }
  return brokers;
}

describe('fault suite: consumer group access', () => {
  it('group access revoked mid-stream and restored: the worker restarts its consumer itself, nothing lost', async () => {
    const started = Date.now();
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const topics = await workerTopics(admin);
    const denial = {
      resourceType: AclResourceTypes.GROUP,
      resourceName: topics.group,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: `User:${USER}`,
      host: '*',
      operation: AclOperationTypes.READ,
      permissionType: AclPermissionTypes.DENY,
    };
    const worker = await spawnWorker({
      ...topics.env,
      KAFKA_BROKERS: saslBrokers(),
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: USER,
      KAFKA_SASL_PASSWORD: 'scorer-secret',
    });
    await worker.waitReady(90_000);
    const revocations = FULL ? 4 : 1;
    const events = sampleEvents(FULL ? 40_000 : 12_000, 'acl');
    const producing = stream(kafka, topics.input, events, 2_000);
    for (let i = 0; i < revocations; i++) {
      await sleep(between(1_000, 2_500));
      const restarts = await metricValue(worker, 'opportunity_scorer_consumer_restarts_total', { by: 'worker' });
      await admin.createAcls({ acl: [denial] }).catch((err: unknown) => {
        throw new Error(`the broker refused an ACL (it needs an authorizer on; the local JVM broker has one): ${String(err)}`);
      });
      // kafkajs gives up on the consumer; the worker's own restarts keep failing while access is denied.
      await waitFor('a failed consumer restart by the worker', async () => (await metricValue(worker, 'opportunity_scorer_consumer_restarts_total', { by: 'worker' })) >= restarts + 1 && !(await isReady(worker)), worker);
      await sleep(FULL ? 8_000 : 3_000);
      expect(await isReady(worker)).toBe(false);
      await admin.deleteAcls({ filters: [denial] });
      await waitFor('readiness after access was restored', () => isReady(worker), worker, 90_000);
    }
    await producing.done;
    const ids = events.map((e) => e.id);
    const r = await audit(kafka, topics, ids);
    const byWorker = await metricValue(worker, 'opportunity_scorer_consumer_restarts_total', { by: 'worker' });
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
});
