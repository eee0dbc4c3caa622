import { Connection, IS_CONTROL, IS_TRANSACTIONAL, type RecordsBatch } from '@platformatic/kafka';
import { committedOnly, isAbortKey } from '../aborted.js';

/**
 * @platformatic/kafka 2.12.1 hands read_committed consumers records of aborted transactions. It keeps one aborted
 * range per producer id, so when a fetch response holds two aborted transactions of one producer (a transactional
 * id claimed again after a kill keeps its producer id: the worker's and the monitor's outputs after a restart), the
 * earlier one's records pass. Every Fetch response is filtered here first, by the rule the kafkajs adapter uses
 * (../aborted.ts), and its aborted list emptied so the client's own filter has nothing left to do. A dropped batch
 * keeps its place with no records, so the consumer's next offset still moves past it.
 */
const FETCH = 1;

/** What every Fetch version's parsed response has of the parts read here. */
interface FetchResponse {
  readonly responses: ReadonlyArray<{
    readonly partitions: ReadonlyArray<{
      abortedTransactions: ReadonlyArray<{ readonly producerId: bigint; readonly firstOffset: bigint }> | null;
      readonly records?: RecordsBatch[] | null;
    }>;
  }>;
}

function filterAborted(response: FetchResponse): void {
  for (const topic of response.responses) {
    for (const partition of topic.partitions) {
      const aborted = partition.abortedTransactions;
      if (aborted === null || aborted.length === 0) continue;
      partition.abortedTransactions = [];
      const batches = partition.records;
      if (batches === undefined || batches === null) continue;
      const keep = committedOnly(aborted.map((t) => ({ producerId: t.producerId, firstOffset: t.firstOffset })));
      for (const batch of batches) {
        const control = (batch.attributes & IS_CONTROL) !== 0;
        const unit = {
          lastOffset: batch.firstOffset + BigInt(batch.lastOffsetDelta),
          producerId: batch.producerId,
          transactional: (batch.attributes & IS_TRANSACTIONAL) !== 0,
          abortMarker: control && isAbortKey(batch.records[0]?.key),
        };
        if (!keep(unit)) batch.records = [];
      }
    }
  }
}

/** Marks the installed wrapper: a module graph evaluated again (a test runner's isolation) finds it in place. */
const INSTALLED = Symbol.for('opportunity-scorer.platformatic.withoutAborted');
type Send = Connection['send'];
const proto = Connection.prototype as Connection & { [INSTALLED]?: true };
if (proto[INSTALLED] !== true) {
  // The original, called below with the connection as `this`.
  const send: Send = Reflect.get<typeof proto, 'send'>(proto, 'send');
  proto.send = function (this: Connection, apiKey: number, ...rest: Parameters<Send> extends [number, ...infer R] ? R : never): void {
    if (apiKey === FETCH) {
      // The connection calls the parser synchronously and hands its result on; a parser that throws has no response.
      const parser = rest[2];
      rest[2] = (...args) => {
        const response = parser(...args);
        if (!(response instanceof Promise)) filterAborted(response as FetchResponse);
        return response;
      };
    }
    send.call(this, apiKey, ...rest);
  } as Send;
  proto[INSTALLED] = true;
}
