/**
 * Which fetched records a read_committed consumer may see, by the Java consumer's rule. A fetch response lists the
 * aborted transactions that overlap it (producer id and first offset, in the order they ended). Walking the records
 * in offset order, every listed transaction whose first offset has been reached is aborting; a transactional record
 * of an aborting producer is dropped; that producer's ABORT marker ends it. Both clients get this wrong in their own
 * way (kafkajs/aborted.ts, platformatic/aborted.ts), so both adapters use this one rule.
 */
export interface AbortedTransaction<P> {
  readonly producerId: P;
  readonly firstOffset: bigint;
}

/** One record, or one record batch (all of a batch's records belong to one transaction). */
export interface FetchedUnit<P> {
  /** The last offset it covers. */
  readonly lastOffset: bigint;
  readonly producerId: P;
  readonly transactional: boolean;
  /** An ABORT control marker (control records are dropped by the clients themselves, after this). */
  readonly abortMarker: boolean;
}

/** A predicate for the units of one partition's response, called in offset order: false drops the unit. */
export function committedOnly<P>(aborted: ReadonlyArray<AbortedTransaction<P>>): (unit: FetchedUnit<P>) => boolean {
  const pending = [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const aborting = new Set<P>();
  let next = 0;
  return (unit) => {
    for (let t = pending[next]; t !== undefined && t.firstOffset <= unit.lastOffset; t = pending[++next]) aborting.add(t.producerId);
    if (unit.abortMarker) {
      aborting.delete(unit.producerId);
      return true;
    }
    return !(unit.transactional && aborting.has(unit.producerId));
  };
}

/** The key of an ABORT control record: version 0, type 0. */
export function isAbortKey(key: Uint8Array | null | undefined): boolean {
  return key !== null && key !== undefined && key.length >= 4 && key[2] === 0 && key[3] === 0;
}
