import type { Producer, TopicMessages } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { SendQueue } from '../../../src/publish/index.js';

/** A producer whose sendBatch calls stay pending until the test settles them (pure queue logic, no broker). */
function pendingProducer(): { producer: Producer; calls: Array<{ messages: number; settle: (err?: Error) => void }> } {
  const calls: Array<{ messages: number; settle: (err?: Error) => void }> = [];
  const producer = {
    sendBatch: ({ topicMessages }: { topicMessages: TopicMessages[] }) =>
      new Promise((resolve, reject) => {
        calls.push({ messages: topicMessages.reduce((n, t) => n + t.messages.length, 0), settle: (err) => (err ? reject(err) : resolve([])) });
      }),
  } as unknown as Producer;
  return { producer, calls };
}

const batch = (n: number): TopicMessages[] => [{ topic: 't', messages: Array.from({ length: n }, (_, i) => ({ value: String(i) })) }];
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
