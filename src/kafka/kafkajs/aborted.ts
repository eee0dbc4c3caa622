import { createRequire } from 'node:module';
import { committedOnly, isAbortKey } from '../aborted.js';

/**
 * kafkajs 2.2.4 (its last release) hands read_committed consumers records of aborted transactions. A fetch response
 * lists the aborted transactions in the order they ended; kafkajs takes them in that order and starts skipping a
 * producer's records only when a record reaches the first offset of the next one in the list. When transactions
 * end in another order than they began (two transactional producers writing one partition, aborted by their new
 * owners one after the other: the monitor's evaluated topic after a kill), the earlier one's records pass. The Java
 * consumer orders them by first offset and starts every one that has begun; this does the same. Installed over
 * kafkajs's module before kafkajs loads it (the modules importing kafkajs import this first).
 */

interface Message {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly isControlRecord?: boolean;
  readonly batchContext: { readonly producerId: string; readonly inTransaction: boolean };
}

interface KafkaJsAbortedTransaction {
  readonly firstOffset: string;
  readonly producerId: string;
}

/** The records of `messages` (in offset order) that belong to no aborted transaction. */
export function withoutAborted({ messages, abortedTransactions }: { messages: readonly Message[]; abortedTransactions?: readonly KafkaJsAbortedTransaction[] }): Message[] {
  if (abortedTransactions === undefined || abortedTransactions.length === 0) return [...messages];
  const keep = committedOnly(abortedTransactions.map((t) => ({ firstOffset: BigInt(t.firstOffset), producerId: String(t.producerId) })));
  return messages.filter((m) =>
    keep({
      lastOffset: BigInt(m.offset),
      producerId: String(m.batchContext.producerId),
      transactional: m.batchContext.inTransaction,
      // kafkajs drops control records itself, after this.
      abortMarker: m.isControlRecord === true && isAbortKey(m.key),
    }),
  );
}

/** Marks the installed filter: a module graph evaluated again (a test runner's isolation) finds it in place. */
const INSTALLED = Symbol.for('opportunity-scorer.kafkajs.withoutAborted');
const require = createRequire(import.meta.url);
const FILTER = require.resolve('kafkajs/src/consumer/filterAbortedMessages.js');
const BATCH = require.resolve('kafkajs/src/consumer/batch.js');
const installed = (exports: unknown): boolean => typeof exports === 'function' && INSTALLED in exports;
if (!installed(require.cache[FILTER]?.exports)) {
  if (require.cache[BATCH] !== undefined) {
    throw new Error('kafkajs was loaded before its aborted-transaction fix (src/kafka/kafkajs/aborted.ts): import that module before kafkajs');
  }
  require(FILTER);
  const cached = require.cache[FILTER];
  if (cached === undefined) throw new Error(`kafkajs's ${FILTER} did not load`);
  cached.exports = Object.assign((args: Parameters<typeof withoutAborted>[0]) => withoutAborted(args), { [INSTALLED]: true });
}
