import type { OutMessage } from './port.js';

/**
 * The most record bytes one produce request carries. A broker refuses a record batch above its message.max.bytes
 * (1 MiB by default) with MESSAGE_TOO_LARGE, and a client puts all of a request's records for one partition in one
 * batch: an exactly-once transaction over a whole fetch of small Avro events once made 2,000-record sends that were
 * refused on every retry. Half the default leaves room for the batch's own framing.
 */
export const MAX_SEND_BYTES = 512 * 1024;

// Per-record framing in a record batch (lengths, offsets, timestamps, attributes): a generous upper bound.
const RECORD_OVERHEAD = 64;

const size = (v: Buffer | string): number => (typeof v === 'string' ? Buffer.byteLength(v) : v.length);

/**
 * An upper estimate of a message's bytes in a record batch. It runs for every output message, so it walks the
 * headers without the temporary arrays of Object.entries (350 against 120 ns a message, measured).
 */
export function recordBytes(m: OutMessage): number {
  let bytes = RECORD_OVERHEAD + m.value.length + (m.key === null ? 0 : size(m.key));
  const headers = m.headers;
  for (const name in headers) {
    const value = headers[name] as Buffer | string | ReadonlyArray<Buffer | string>;
    const nameBytes = Buffer.byteLength(name) + 8;
    if (typeof value === 'string' || Buffer.isBuffer(value)) bytes += nameBytes + size(value);
    else for (const v of value) bytes += nameBytes + size(v);
  }
  return bytes;
}

/**
 * `messages` in order, cut into consecutive groups of at most `maxBytes` (a larger message goes alone). `knownBytes`
 * is their recordBytes total when the caller has already summed it: within the budget they are one group, unsized.
 */
export function sizedGroups(messages: readonly OutMessage[], maxBytes = MAX_SEND_BYTES, knownBytes?: number): Array<readonly OutMessage[]> {
  if (knownBytes !== undefined && knownBytes <= maxBytes) return messages.length === 0 ? [] : [messages];
  const groups: Array<readonly OutMessage[]> = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const b = recordBytes(messages[i] as OutMessage);
    if (i > start && bytes + b > maxBytes) {
      groups.push(messages.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += b;
  }
  if (start < messages.length) groups.push(start === 0 ? messages : messages.slice(start));
  return groups;
}
