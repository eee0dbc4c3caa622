import { describe, expect, it } from 'vitest';
import type { KafkaProducer, OutMessage } from '../../../src/kafka/index.js';
import { SendQueue } from '../../../src/publish/index.js';

/** A producer whose sendBatch calls stay pending until the test settles them (pure queue logic, no broker). */
function pendingProducer(): { producer: KafkaProducer; calls: Array<{ messages: number; settle: (err?: Error) => void }> } {
  const calls: Array<{ messages: number; settle: (err?: Error) => void }> = [];
  const producer: KafkaProducer = {
    send: (messages) =>
      new Promise((resolve, reject) => {
        calls.push({ messages: messages.length, settle: (err) => (err ? reject(err) : resolve()) });
      }),
    close: () => Promise.resolve(),
  };
  return { producer, calls };
}

const batch = (n: number): OutMessage[] => Array.from({ length: n }, (_, i) => ({ topic: 't', key: null, value: Buffer.from(String(i)), headers: {} }));
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('SendQueue', () => {
  it('keeps one request in flight and coalesces what arrives meanwhile into the next', async () => {
    const { producer, calls } = pendingProducer();
    const q = new SendQueue(producer);
    const a = q.send(batch(1));
    const b = q.send(batch(2));
    const c = q.send(batch(3));
    await tick();
    expect(calls.map((x) => x.messages)).toEqual([1]);
    calls[0]?.settle();
    await a;
    await tick();
    expect(calls.map((x) => x.messages)).toEqual([1, 5]);
    calls[1]?.settle();
    await Promise.all([b, c]);
  });

  it('close refuses queued and new writes and waits for the request in flight', async () => {
    const { producer, calls } = pendingProducer();
    const q = new SendQueue(producer);
    const inFlight = q.send(batch(1));
    const queued = q.send(batch(2));
    await tick();
    let closed = false;
    const closing = q.close().then(() => (closed = true));
    await expect(queued).rejects.toThrow(/closed/);
    await expect(q.send(batch(1))).rejects.toThrow(/closed/);
    await tick();
    expect(closed).toBe(false);
    calls[0]?.settle(new Error('broker gone'));
    await expect(inFlight).rejects.toThrow('broker gone');
    await closing;
    // Nothing was sent after close: the queued write never reached the producer.
    expect(calls).toHaveLength(1);
  });
});
