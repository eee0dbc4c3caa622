import { open } from 'node:fs/promises';

const LF = 0x0a;
const CR = 0x0d;

/** Bytes a read asks for at least: about 1,500 lines of events in one system call. */
const BLOCK_BYTES = 1 << 20;

/**
 * A run of whole lines of a text file, as bytes in a buffer of their own (so it can be transferred to a thread),
 * with the number of its first line: rows count every line from 1, blank ones included.
 */
export interface LineChunk {
  readonly firstRow: number;
  readonly lines: number;
  readonly bytes: Uint8Array;
}

/**
 * Where the line starting at `from` ends (`end`, its last byte + 1) and where the next one starts (`next`), or
 * undefined when no break follows yet. A line ends at LF, CRLF or a lone CR: the rules of node's readline with
 * `crlfDelay: Infinity`, which read these files before. A CR as the last byte is a break only at the end of the
 * file (`atEof`), since an LF may follow it. Both bytes are ASCII, never inside a UTF-8 sequence, so lines are
 * found in the bytes, before (and without) decoding them.
 */
function lineBreak(bytes: Buffer, from: number, atEof: boolean): { end: number; next: number } | undefined {
  const lf = bytes.indexOf(LF, from);
  const searchEnd = lf === -1 ? bytes.length : lf;
  const cr = searchEnd > from ? bytes.subarray(from, searchEnd).indexOf(CR) : -1;
  if (cr !== -1) {
    const at = from + cr;
    if (at + 1 < bytes.length) return { end: at, next: bytes[at + 1] === LF ? at + 2 : at + 1 };
    return atEof ? { end: at, next: at + 1 } : undefined;
  }
  return lf === -1 ? undefined : { end: lf, next: lf + 1 };
}

/**
 * A chunk's lines that hold more than white space, decoded as UTF-8 (invalid bytes become U+FFFD, as the stream
 * decoder made them), with their rows: blank lines count as rows but are skipped.
 */
export function chunkRows(chunk: Pick<LineChunk, 'firstRow' | 'bytes'>): Array<{ readonly row: number; readonly line: string }> {
  const buffer = Buffer.from(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength);
  const out: Array<{ row: number; line: string }> = [];
  let row = chunk.firstRow;
  let at = 0;
  while (at < buffer.length) {
    const found = lineBreak(buffer, at, true);
    const line = buffer.toString('utf8', at, found?.end ?? buffer.length);
    if (line.trim() !== '') out.push({ row, line });
    row++;
    at = found?.next ?? buffer.length;
  }
  return out;
}

/**
 * A text file as chunks of `linesPerChunk` whole lines (the last may hold fewer), after its first `skipLines`; a
 * last line without a break is a line. The file is read a block at a time and its lines are found in the bytes:
 * decoding them is left to whoever takes the chunk (a scoring thread).
 */
export async function* readLineChunks(path: string, options: { readonly linesPerChunk: number; readonly skipLines?: number }): AsyncGenerator<LineChunk> {
  const skip = options.skipLines ?? 0;
  const file = await open(path, 'r');
  try {
    let held = Buffer.alloc(0); // the current chunk's bytes so far, then what is not scanned yet
    let scanned = 0; // held[0, scanned) holds the current chunk's complete lines
    let inChunk = 0;
    let row = 0;
    let eof = false;
    for (;;) {
      if (!eof) {
        // Asking for at least what is held keeps a chunk larger than a block linear to assemble.
        const want = Math.max(BLOCK_BYTES, held.length);
        const block = Buffer.allocUnsafeSlow(held.length + want);
        held.copy(block, 0);
        const { bytesRead } = await file.read(block, held.length, want, null);
        eof = bytesRead === 0;
        held = block.subarray(0, held.length + bytesRead);
      }
      for (;;) {
        const found = lineBreak(held, scanned, eof);
        const next = found?.next ?? (eof && scanned < held.length ? held.length : undefined);
        if (next === undefined) break;
        row++;
        if (row <= skip) {
          held = held.subarray(next);
          continue;
        }
        scanned = next;
        if (++inChunk === options.linesPerChunk) {
          yield { firstRow: row - inChunk + 1, lines: inChunk, bytes: ownCopy(held, scanned) };
          held = held.subarray(scanned);
          scanned = 0;
          inChunk = 0;
        }
      }
      if (eof) {
        if (inChunk > 0) yield { firstRow: row - inChunk + 1, lines: inChunk, bytes: ownCopy(held, scanned) };
        return;
      }
    }
  } finally {
    await file.close();
  }
}

/** bytes[0, end) in a buffer of their own, not a view of a larger one. */
function ownCopy(bytes: Buffer, end: number): Uint8Array {
  const copy = new Uint8Array(end);
  copy.set(bytes.subarray(0, end));
  return copy;
}
