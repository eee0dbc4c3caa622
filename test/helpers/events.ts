import type { Opportunity } from '../../src/contract/index.js';

/** An Avro-ready record (all fields present) of a validated opportunity. */
export function avroRecord(op: Opportunity): Record<string, unknown> {
  return { ...op };
}

/** The JSON form a producer would send (ISO timestamps). */
export function jsonEvent(op: Opportunity): Record<string, unknown> {
  return {
    ...op,
    detectedAt: new Date(op.detectedAt).toISOString(),
    longNextFundingTime: new Date(op.longNextFundingTime).toISOString(),
    shortNextFundingTime: new Date(op.shortNextFundingTime).toISOString(),
  };
}
