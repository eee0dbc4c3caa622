import { describe, expect, it } from 'vitest';
import { type KafkaProducer, MAX_SEND_BYTES, type OutMessage, recordBytes } from '../../../src/kafka/index.js';
import { SendQueue } from '../../../src/publish/index.js';

/** A producer whose sendBatch calls stay pending until the test settles them (pure queue logic, no broker). */
function pendingProducer(): { producer: KafkaProducer; calls: Array<{ messages: number; bytes: number | undefined; settle: (err?: Error) => void }> } {
  const calls: Array<{ messages: number; bytes: number | undefined; settle: (err?: Error) => void }> = [];
  const producer: KafkaProducer = {
    send: (messages, bytes) =>
      new Promise((resolve, reject) => {
        calls.push({ messages: messages.length, bytes, settle: (err) => (err ? reject(err) : resolve()) });
      }),
    close: () => Promise.resolve(),
  };
  return { producer, calls };
}

const batch = (n: number): OutMessage[] => Array.from({ length: n }, (_, i) => ({ topic: 't', key: null, value: Buffer.from(String(i)), headers: {} }));
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

type Calls = ReturnType<typeof pendingProducer>['calls'];
/** Acknowledges request `i`, waits for the callers it carried, and returns the sizes of every request sent by then. */
async function acknowledge(calls: Calls, i: number, carried: Promise<unknown>): Promise<number[]> {
  calls[i]?.settle();
  await carried;
  await tick();
  return calls.map((x) => x.messages);
}

describe('SendQueue', () => {
  it('keeps one request in flight and coalesces what arrives meanwhile into the next', async () => {
    const { producer, calls } = pendingProducer();
    const q = new SendQueue(producer);
    const a = q.send(batch(1));
    const b = q.send(batch(2));
    const c = q.send(batch(3));
    await tick();
    expect(calls.map((x) => x.messages)).toEqual([1]);
    expect(await acknowledge(calls, 0, a)).toEqual([1, 5]);
    // The queue hands over the sizes it summed, so the adapter need not size the records again.
    expect(calls[1]?.bytes).toBe([...batch(2), ...batch(3)].reduce((sum, m) => sum + recordBytes(m), 0));
    calls[1]?.settle();
    await Promise.all([b, c]);
  });

  it("coalesces no more than one request's worth, so a failed request fails only the callers it carried", async () => {
    const { producer, calls } = pendingProducer();
    const q = new SendQueue(producer);
    // Just under half a request each: two fit one request, a third would not.
    const half = (): OutMessage[] => [{ topic: 't', key: null, value: Buffer.alloc(MAX_SEND_BYTES / 2 - 100), headers: {} }];
    const first = q.send(batch(1));
    const waiting = [q.send(half()), q.send(half()), q.send(half()), q.send(batch(2))];
    await tick();
    expect(await acknowledge(calls, 0, first)).toEqual([1, 2]);
    // The third caller and the small one after it share the next request; its failure is theirs alone.
    expect(await acknowledge(calls, 1, Promise.all(waiting.slice(0, 2)))).toEqual([1, 2, 3]);
    calls[2]?.settle(new Error('TOPIC_AUTHORIZATION_FAILED'));
    await expect(waiting[2]).rejects.toThrow('TOPIC_AUTHORIZATION_FAILED');
    await expect(waiting[3]).rejects.toThrow('TOPIC_AUTHORIZATION_FAILED');
  });

  it('sends a caller larger than one request alone', async () => {
    const { producer, calls } = pendingProducer();
    const q = new SendQueue(producer);
    const first = q.send(batch(1));
    const big = q.send(Array.from({ length: 3 }, () => ({ topic: 't', key: null, value: Buffer.alloc(MAX_SEND_BYTES / 2), headers: {} })));
    const small = q.send(batch(1));
    await tick();
    expect(await acknowledge(calls, 0, first)).toEqual([1, 3]);
    expect(await acknowledge(calls, 1, big)).toEqual([1, 3, 1]);
    calls[2]?.settle();
    await small;
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
