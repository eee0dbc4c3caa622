import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { FetchedBatch, KafkaPort, KafkaProducer, OutMessage, TransactionalProducer } from '../../../src/kafka/index.js';
import { createPublisher } from '../../../src/publish/index.js';

const log = pino({ level: 'silent' });
const msg: OutMessage = { topic: 'out', key: 'k', value: Buffer.from('v'), headers: {} };

/** A port whose producers the test scripts (pure strategy logic, no broker). */
function fakePort(script: { connectFails?: () => boolean; sendFails?: () => boolean; commitFails?: () => boolean }) {
  const producers: Array<{ sent: number; closed: boolean }> = [];
  const transactional = new Map<string, { commits: number; closed: boolean }>();
  const port = {
    client: 'kafkajs',
    producer: (): Promise<KafkaProducer> => {
      if (script.connectFails?.() === true) return Promise.reject(new Error('brokers down'));
      const p = { sent: 0, closed: false };
      producers.push(p);
      return Promise.resolve({
        send: (ms) => (script.sendFails?.() === true ? Promise.reject(new Error('write refused')) : Promise.resolve(void (p.sent += ms.length))),
        close: () => Promise.resolve(void (p.closed = true)),
      });
    },
    transactionalProducer: (id: string): Promise<TransactionalProducer> => {
      const t = { commits: 0, closed: false, fenced: 0 };
      transactional.set(`${id}#${transactional.size}`, t);
      return Promise.resolve({
        commit: () => (script.commitFails?.() === true ? Promise.reject(new Error('fenced')) : Promise.resolve(void t.commits++)),
        fence: () => Promise.resolve(void t.fenced++),
        close: () => Promise.resolve(void (t.closed = true)),
      });
    },
  } as unknown as KafkaPort;
  return { port, producers, transactional };
}

const batch = (partition: number): FetchedBatch =>
  ({ topic: 'in', partition, transactionOffsets: (o: string) => ({ groupId: 'g', topic: 'in', partition, next: BigInt(o) + 1n, native: undefined }) }) as unknown as FetchedBatch;

describe('at-least-once publisher', () => {
  it('replaces its producer after a failed write, and keeps trying to connect while the brokers are down', async () => {
    let failSend = true;
    let down = false;
    const { port, producers } = fakePort({ sendFails: () => failSend, connectFails: () => down });
    const publisher = createPublisher('at-least-once', port, 'g', log, { transactionMaxRecords: 4096 });
    expect(publisher.recordsPerPublish).toBeUndefined();
    expect(publisher.consumerCommits).toBe(true);
    await publisher.start();
    down = true;
    await expect(publisher.publish([msg], batch(0), '0')).rejects.toThrow('write refused');
    expect(producers[0]?.closed).toBe(true);
    expect(publisher.notReady()).toEqual(['producer is not connected']);
    // Still down: the publish fails and asks for another connection.
    await expect(publisher.publish([msg], batch(0), '0')).rejects.toThrow('not connected');
    down = false;
    failSend = false;
    await expect(publisher.publish([msg], batch(0), '0')).rejects.toThrow('not connected');
    expect(publisher.notReady()).toEqual([]);
    await publisher.publish([msg, msg], batch(0), '1');
    expect(producers.at(-1)?.sent).toBe(2);
    await publisher.close();
    await publisher.close();
    expect(producers.every((p) => p.closed)).toBe(true);
  });
});

describe('exactly-once publisher', () => {
  it('commits through the partition\'s producer, replaces it after a failure and closes the producers of revoked partitions', async () => {
    let fail = false;
    const { port, transactional } = fakePort({ commitFails: () => fail });
    const publisher = createPublisher('exactly-once', port, 'g', log, { transactionMaxRecords: 4096 });
    expect(publisher.consumerCommits).toBe(false);
    expect(publisher.recordsPerPublish).toBe(4096);
    await publisher.publish([msg], batch(0), '5');
    await publisher.publish([msg], batch(1), '9');
    expect([...transactional.keys()]).toEqual(['g.in.0#0', 'g.in.1#1']);
    fail = true;
    await expect(publisher.publish([msg], batch(0), '6')).rejects.toThrow('fenced');
    expect(transactional.get('g.in.0#0')?.closed).toBe(true);
    fail = false;
    await publisher.publish([msg], batch(0), '6');
    expect(transactional.get('g.in.0#2')?.commits).toBe(1);
    publisher.assigned(new Set(['in:0']));
    await new Promise((r) => setImmediate(r));
    expect(transactional.get('g.in.1#1')?.closed).toBe(true);
    await publisher.close();
    expect([...transactional.values()].every((t) => t.closed)).toBe(true);
  });
});
