import { ScorerError } from '../errors.js';

export interface MicroBatcherOptions {
  /** A batch is dispatched as soon as this many items wait… */
  readonly maxSize: number;
  /** …or this long after the first item of the batch arrived, whichever comes first. */
  readonly maxDelayMs: number;
  /** Items allowed to wait; `submit` beyond it waits for room (backpressure), `trySubmit` refuses. */
  readonly queueMax: number;
}

/** Observations for metrics; called synchronously, keep them cheap. */
export interface MicroBatcherObserver {
  onDispatch?(size: number, waitedMs: number): void;
  onDone?(size: number, durationMs: number, failed: boolean): void;
}

interface Pending<I, O> {
  readonly items: readonly I[];
  readonly results: O[];
  remaining: number;
  readonly resolve: (out: O[]) => void;
  readonly reject: (err: unknown) => void;
  failed: boolean;
}

interface Slot<I, O> {
  readonly pending: Pending<I, O>;
  readonly index: number;
}

/**
 * One micro-batcher shared by every caller (Kafka, HTTP, backfill): items from many callers are coalesced into
 * batches of at most `maxSize`, run one batch at a time by `process`, and each caller gets its own results back,
 * in its own order. A caller's chunk may span several batches. Waiting items are bounded by `queueMax`.
 */
export class MicroBatcher<I, O> {
  readonly #options: MicroBatcherOptions;
  readonly #process: (items: readonly I[]) => Promise<readonly O[]>;
  readonly #observer: MicroBatcherObserver;
  #queue: Array<Slot<I, O>> = [];
  #queueHead = 0;
  #firstQueuedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #closed = false;
  #roomWaiters: Array<() => void> = [];
  #idleWaiters: Array<() => void> = [];

  constructor(options: MicroBatcherOptions, process: (items: readonly I[]) => Promise<readonly O[]>, observer: MicroBatcherObserver = {}) {
    if (!(options.maxSize >= 1 && options.queueMax >= 1 && options.maxDelayMs >= 0)) {
      throw new ScorerError('CONFIG_INVALID', `invalid micro-batcher options: maxSize ${options.maxSize} and queueMax ${options.queueMax} must be ≥ 1, maxDelayMs ${options.maxDelayMs} ≥ 0`);
    }
    this.#options = options;
    this.#process = process;
    this.#observer = observer;
  }

  /** Items waiting to be dispatched. */
  get queued(): number {
    return this.#queue.length - this.#queueHead;
  }

  get saturated(): boolean {
    return this.queued >= this.#options.queueMax;
  }

  /** Scores `items`, waiting for room in the queue first when it is full. */
  async submit(items: readonly I[]): Promise<O[]> {
    while (!this.#closed && this.queued > 0 && this.queued + items.length > this.#options.queueMax) {
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
    return this.#enqueue(items);
  }

  /** Like `submit`, but refuses with OVERLOADED instead of waiting when the queue is full (for request/response callers). */
  trySubmit(items: readonly I[]): Promise<O[]> {
    if (this.queued > 0 && this.queued + items.length > this.#options.queueMax) {
      return Promise.reject(new ScorerError('OVERLOADED', `scoring queue full (${this.queued} waiting, limit ${this.#options.queueMax})`));
    }
    return this.#enqueue(items);
  }

  /** Dispatches what is waiting now, without waiting for the delay (used when draining). */
  flush(): void {
    this.#clearTimer();
    void this.#drain();
  }

  /** Resolves once nothing is queued or running. */
  async idle(): Promise<void> {
    if (this.queued === 0 && !this.#running) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops accepting items, runs what is queued, and resolves when all of it is done. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.flush();
    for (const wake of this.#roomWaiters.splice(0)) wake();
    await this.idle();
  }

  #enqueue(items: readonly I[]): Promise<O[]> {
    if (this.#closed) return Promise.reject(new ScorerError('SHUTTING_DOWN', 'the scorer is shutting down'));
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<O[]>((resolve, reject) => {
      const pending: Pending<I, O> = { items, results: new Array<O>(items.length), remaining: items.length, resolve, reject, failed: false };
      if (this.queued === 0) this.#firstQueuedAt = performance.now();
      for (let i = 0; i < items.length; i++) this.#queue.push({ pending, index: i });
      if (this.queued >= this.#options.maxSize || this.#options.maxDelayMs === 0) {
        this.#clearTimer();
        void this.#drain();
      } else if (this.#timer === undefined) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          void this.#drain();
        }, this.#options.maxDelayMs);
      }
    });
  }

  async #drain(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.queued > 0) {
        const size = Math.min(this.queued, this.#options.maxSize);
        const slots = this.#queue.slice(this.#queueHead, this.#queueHead + size);
        this.#queueHead += size;
        if (this.#queueHead > 4096 && this.#queueHead * 2 > this.#queue.length) {
          this.#queue = this.#queue.slice(this.#queueHead);
          this.#queueHead = 0;
        }
        const waited = performance.now() - this.#firstQueuedAt;
        this.#firstQueuedAt = performance.now();
        for (const wake of this.#roomWaiters.splice(0)) wake();
        this.#observer.onDispatch?.(size, waited);
        await this.#run(slots);
        // A partial batch that arrived while this one ran waits for its own delay, unless it is already full.
        if (this.queued > 0 && this.queued < this.#options.maxSize && !this.#closed && this.#options.maxDelayMs > 0) {
          const remainingDelay = this.#options.maxDelayMs - (performance.now() - this.#firstQueuedAt);
          if (remainingDelay > 0) {
            this.#timer ??= setTimeout(() => {
              this.#timer = undefined;
              void this.#drain();
            }, remainingDelay);
            break;
          }
        }
      }
    } finally {
      this.#running = false;
      if (this.queued === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  async #run(slots: ReadonlyArray<Slot<I, O>>): Promise<void> {
    const started = performance.now();
    let outputs: readonly O[] | undefined;
    let error: unknown;
    try {
      outputs = await this.#process(slots.map((s) => s.pending.items[s.index] as I));
      if (outputs.length !== slots.length) throw new ScorerError('INTERNAL', `batch of ${slots.length} produced ${outputs.length} results`);
    } catch (err) {
      error = err;
    }
    this.#observer.onDone?.(slots.length, performance.now() - started, error !== undefined);
    slots.forEach((slot, i) => {
      const p = slot.pending;
      if (p.failed) return;
      if (error !== undefined) {
        p.failed = true;
        p.reject(error);
        return;
      }
      p.results[slot.index] = outputs?.[i] as O;
      if (--p.remaining === 0) p.resolve(p.results);
    });
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}
