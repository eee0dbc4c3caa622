import type { Producer, TopicMessages } from 'kafkajs';

interface Waiter {
  readonly topicMessages: TopicMessages[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Serialises writes on one idempotent producer: kafkajs must not have two requests of an idempotent producer in
 * flight (sequence numbers go out of order, tulios/kafkajs#598, #1005), so everything that arrives while a request
 * is in flight is coalesced into the next single `sendBatch`. Each caller's promise settles with the request that
 * carried its records (acks=all).
 */
export class SendQueue {
  readonly #producer: Producer;
  #waiting: Waiter[] = [];
  #inFlight = false;

  constructor(producer: Producer) {
    this.#producer = producer;
  }

  send(topicMessages: TopicMessages[]): Promise<void> {
    if (topicMessages.every((t) => t.messages.length === 0)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ topicMessages, resolve, reject });
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#inFlight) return;
    this.#inFlight = true;
    try {
      while (this.#waiting.length > 0) {
        const group = this.#waiting;
        this.#waiting = [];
        try {
          await this.#producer.sendBatch({ topicMessages: group.flatMap((w) => w.topicMessages), acks: -1 });
          for (const w of group) w.resolve();
        } catch (err) {
          for (const w of group) w.reject(err);
        }
      }
    } finally {
      this.#inFlight = false;
    }
  }
}
