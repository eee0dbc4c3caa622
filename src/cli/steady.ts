import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaProducer, OutMessage } from '../kafka/index.js';

/** Sends per 10 ms tick: a steady rate without one timer per event. */
const TICK_MS = 10;

/** Messages to a producer at a steady rate: `add` queues one and sends a tick's worth when full, then waits. */
export class SteadySender {
  readonly #producer: KafkaProducer;
  readonly #perTick: number;
  readonly #started = performance.now();
  #batch: OutMessage[] = [];
  #ticks = 0;
  #sent = 0;

  constructor(producer: KafkaProducer, perSecond: number) {
    this.#producer = producer;
    this.#perTick = Math.max(1, Math.round((perSecond * TICK_MS) / 1000));
  }

  get sent(): number {
    return this.#sent;
  }

  /** Seconds since the sender was made. */
  get seconds(): number {
    return (performance.now() - this.#started) / 1000;
  }

  async add(message: OutMessage): Promise<void> {
    this.#batch.push(message);
    if (this.#batch.length >= this.#perTick) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#batch.length === 0) return;
    await this.#producer.send(this.#batch);
    this.#sent += this.#batch.length;
    this.#batch = [];
    this.#ticks++;
    const wait = this.#started + this.#ticks * TICK_MS - performance.now();
    if (wait > 0) await sleep(wait);
  }
}
