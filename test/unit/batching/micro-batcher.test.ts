import { describe, expect, it } from 'vitest';
import { MicroBatcher } from '../../../src/batching/micro-batcher.js';
import { hasCode } from '../../../src/errors.js';

/** A batcher whose process doubles numbers and records each batch it ran. */
function doubling(options: { maxSize: number; maxDelayMs: number; queueMax: number }, hold?: Promise<void>) {
  const batches: number[][] = [];
  const dispatched: number[] = [];
  const batcher = new MicroBatcher<number, number>(
    options,
    async (items) => {
      batches.push([...items]);
      await hold;
      return items.map((i) => i * 2);
    },
    { onDispatch: (size) => dispatched.push(size) },
  );
  return { batcher, batches, dispatched };
}

describe('MicroBatcher', () => {
  it('coalesces callers into batches of at most maxSize and gives each caller its own results in order', async () => {
    const { batcher, batches } = doubling({ maxSize: 4, maxDelayMs: 5, queueMax: 100 });
    const [a, b, c] = await Promise.all([batcher.submit([1, 2, 3]), batcher.submit([4, 5]), batcher.submit([6])]);
    expect(a).toEqual([2, 4, 6]);
    expect(b).toEqual([8, 10]);
    expect(c).toEqual([12]);
    expect(batches.every((batch) => batch.length <= 4)).toBe(true);
    expect(batches.flat()).toEqual([1, 2, 3, 4, 5, 6]);
    await batcher.close();
  });

  it('dispatches a partial batch after maxDelayMs, and at once on flush', async () => {
    const { batcher, dispatched } = doubling({ maxSize: 100, maxDelayMs: 60_000, queueMax: 1000 });
    const pending = batcher.submit([1, 2]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(dispatched).toEqual([]); // waiting for more items
    batcher.flush();
    expect(await pending).toEqual([2, 4]);
    expect(dispatched).toEqual([2]);
    await batcher.close();
  });

  it('with maxDelayMs 0 a batch leaves as soon as the models are free; what arrives while it runs goes together next', async () => {
    let release = (): void => undefined;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const { batcher, batches } = doubling({ maxSize: 100, maxDelayMs: 0, queueMax: 1000 }, hold);
    const first = batcher.submit([1, 2]); // models idle: dispatched at once, no timer
    expect(batches).toEqual([[1, 2]]);
    const rest = [batcher.submit([3]), batcher.submit([4, 5]), batcher.submit([6])]; // queue while the first runs
    expect(batches).toEqual([[1, 2]]);
    release();
    expect(await first).toEqual([2, 4]);
    expect(await Promise.all(rest)).toEqual([[6], [8, 10], [12]]);
    expect(batches).toEqual([[1, 2], [3, 4, 5, 6]]);
    await batcher.close();
  });

  it('bounds what waits: submit waits for room, trySubmit refuses with OVERLOADED', async () => {
    let release = (): void => undefined;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const { batcher } = doubling({ maxSize: 2, maxDelayMs: 0, queueMax: 2 }, hold);
    const running = batcher.submit([1, 2]); // dispatched at once, held
    const queued = batcher.submit([3, 4]); // fills the queue
    await new Promise((resolve) => setTimeout(resolve, 5));
    await expect(batcher.trySubmit([5])).rejects.toSatisfy((err: unknown) => hasCode(err, 'OVERLOADED'));
    let waitedForRoom = false;
    const blocked = batcher.submit([5]).then((r) => {
      waitedForRoom = true;
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(waitedForRoom).toBe(false);
    release();
    expect(await Promise.all([running, queued, blocked])).toEqual([[2, 4], [6, 8], [10]]);
    await batcher.close();
  });

  it('fails every caller of a failed batch, and only them', async () => {
    const batcher = new MicroBatcher<number, number>({ maxSize: 2, maxDelayMs: 0, queueMax: 10 }, (items) =>
      items.includes(13) ? Promise.reject(new Error('unlucky')) : Promise.resolve(items.map((i) => i)),
    );
    const [bad, good] = await Promise.allSettled([batcher.submit([13]), batcher.submit([1])]);
    expect(bad.status).toBe('rejected');
    expect(good).toEqual({ status: 'fulfilled', value: [1] });
    await batcher.close();
  });

  it('a batch whose process returns the wrong number of results fails as INTERNAL', async () => {
    const batcher = new MicroBatcher<number, number>({ maxSize: 4, maxDelayMs: 0, queueMax: 10 }, () => Promise.resolve([1]));
    await expect(batcher.submit([1, 2])).rejects.toSatisfy((err: unknown) => hasCode(err, 'INTERNAL'));
    await batcher.close();
  });

  it('close runs what is queued, then refuses with SHUTTING_DOWN; close is idempotent', async () => {
    const { batcher } = doubling({ maxSize: 10, maxDelayMs: 60_000, queueMax: 100 });
    const queued = batcher.submit([1]);
    await batcher.close();
    expect(await queued).toEqual([2]);
    await expect(batcher.submit([2])).rejects.toSatisfy((err: unknown) => hasCode(err, 'SHUTTING_DOWN'));
    await batcher.close();
  });

  it('refuses impossible options as CONFIG_INVALID', () => {
    expect(() => new MicroBatcher({ maxSize: 0, maxDelayMs: 0, queueMax: 1 }, (i: readonly number[]) => Promise.resolve(i))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
