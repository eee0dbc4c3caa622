import { createRequire } from 'node:module';

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

interface AbortedTransaction {
  readonly firstOffset: string;
  readonly producerId: string;
}

/** The key of an ABORT control record: version 0, type 0. */
const ABORT_KEY = Buffer.from([0, 0, 0, 0]);

/** The records of `messages` (in offset order) that belong to no aborted transaction. */
export function withoutAborted({ messages, abortedTransactions }: { messages: readonly Message[]; abortedTransactions?: readonly AbortedTransaction[] }): Message[] {
  if (abortedTransactions === undefined || abortedTransactions.length === 0) return [...messages];
  const pending = abortedTransactions.map((t) => ({ first: BigInt(t.firstOffset), producer: String(t.producerId) })).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const aborting = new Set<string>();
  let next = 0;
  return messages.filter((m) => {
    const offset = BigInt(m.offset);
    for (let t = pending[next]; t !== undefined && t.first <= offset; t = pending[++next]) aborting.add(t.producer);
    const producer = String(m.batchContext.producerId);
    if (m.isControlRecord === true && m.key !== null && Buffer.from(m.key).equals(ABORT_KEY)) {
      aborting.delete(producer);
      return true; // kafkajs drops control records itself
    }
    return !(m.batchContext.inTransaction && aborting.has(producer));
  });
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
