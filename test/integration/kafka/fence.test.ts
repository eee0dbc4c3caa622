import { describe, expect, it, onTestFinished } from 'vitest';
import { readTopics } from '../../../src/ledger/index.js';
import { createTestTopic, kafkaJsPort, testAdmin, testKafka, testPort, uniqueName } from '../../helpers/kafka.js';

describe('transactional fence (the port, the client under test)', () => {
  it("claiming a transactional id ends an earlier owner's open transaction: it can commit nothing, and readers never see it", async () => {
    const kafka = testKafka();
    const topic = await createTestTopic(await testAdmin(kafka));
    const id = uniqueName('txn');
    // The earlier owner: a kafkajs transaction left open mid-way, as a member that lost its partition leaves one.
    const zombie = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
    await zombie.connect();
    onTestFinished(() => zombie.disconnect().catch(() => undefined));
    const open = await zombie.transaction();
    await open.send({ topic, messages: [{ key: 'z', value: 'zombie' }] });

    const port = testPort();
    const owner = await port.transactionalProducer(id);
    onTestFinished(() => owner.close());
    await owner.fence();
    await owner.fence();
    await expect(open.commit()).rejects.toThrow();
    // The committed view holds nothing of the zombie's, and the read ends (no open transaction holds it back).
    const entries = await readTopics(kafkaJsPort(kafka), [topic], { idleMs: 1_500, timeoutMs: 20_000 });
    expect(entries.map((e) => e.value.toString())).toEqual([]);
  });
});
