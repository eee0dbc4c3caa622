import { type KafkaProducer, MAX_SEND_BYTES, type OutMessage, recordBytes } from '../kafka/index.js';
import { ScorerError } from '../errors.js';

interface Waiter {
  readonly messages: readonly OutMessage[];
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

// Retriable: the records go again through the producer that replaces this one.
const closedError = (): Error => new ScorerError('PUBLISH_FAILED', 'the send queue is closed (its producer is being replaced or closed)');

/**
 * Serialises writes on one idempotent producer: kafkajs must not have two requests of an idempotent producer in
 * flight (sequence numbers go out of order, tulios/kafkajs#598, #1005), so everything that arrives while a request
 * is in flight is coalesced into the next send, up to one request's worth (MAX_SEND_BYTES). Each caller's promise
 * settles with the send that carried its records (acks=all).
 *
 * The bound keeps callers apart: a send above it goes in several requests, and when a later one fails every caller
 * in it writes again, so callers whose records an earlier request had written would repeat them (the fault suite
 * saw 699 repeats with the output topic's write permission withdrawn between two such requests). A caller larger
 * than a request goes alone and can only repeat its own records.
 */
export class SendQueue {
  readonly #producer: KafkaProducer;
  #waiting: Waiter[] = [];
  #pumping: Promise<void> | undefined;
  #closed = false;

  constructor(producer: KafkaProducer) {
    this.#producer = producer;
  }

  send(messages: readonly OutMessage[]): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (messages.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let bytes = 0;
      for (const m of messages) bytes += recordBytes(m);
      this.#waiting.push({ messages, bytes, resolve, reject });
      this.#pumping ??= this.#pump();
    });
  }

  /**
   * Refuses new and queued writes and waits for the request in flight to settle. Call it before the producer is
   * disconnected: kafkajs reconnects a disconnected producer inside a send that is still retrying, and nothing
   * would ever close that connection again.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const refused = this.#waiting;
    this.#waiting = [];
    for (const w of refused) w.reject(closedError());
    await this.#pumping;
  }

  async #pump(): Promise<void> {
    try {
      while (this.#waiting.length > 0) {
        const group = this.#nextGroup();
        let bytes = 0;
        for (const w of group) bytes += w.bytes;
        try {
          await this.#producer.send(group.length === 1 ? (group[0] as Waiter).messages : group.flatMap((w) => w.messages), bytes);
          for (const w of group) w.resolve();
        } catch (err) {
          for (const w of group) w.reject(err);
        }
      }
    } finally {
      this.#pumping = undefined;
    }
  }

  /** The waiting callers, in order, that fit one request together (the first always goes). */
  #nextGroup(): Waiter[] {
    let bytes = 0;
    let n = 0;
    for (const w of this.#waiting) {
      if (n > 0 && bytes + w.bytes > MAX_SEND_BYTES) break;
      bytes += w.bytes;
      n++;
    }
    return this.#waiting.splice(0, n);
  }
}
