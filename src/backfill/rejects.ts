import { once } from 'node:events';
import { type WriteStream, createWriteStream } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { SourcePosition } from '../contract/index.js';

/** The reject file of a backfill: one JSON line per input row left out, with the reason. */
export class RejectsFile {
  readonly #stream: WriteStream;
  #bytes: number;

  private constructor(stream: WriteStream, bytes: number) {
    this.#stream = stream;
    this.#bytes = bytes;
  }

  /** A new file, or (resuming) the file cut back to the `bytes` a checkpoint recorded and appended to. */
  static async open(path: string, resumeAtBytes?: number): Promise<RejectsFile> {
    if (resumeAtBytes !== undefined) await truncate(path, resumeAtBytes);
    return new RejectsFile(createWriteStream(path, { flags: resumeAtBytes === undefined ? 'w' : 'a' }), resumeAtBytes ?? 0);
  }

  /** Bytes written so far (what a checkpoint records). */
  get bytes(): number {
    return this.#bytes;
  }

  async write(row: number, id: unknown, position: SourcePosition | undefined, reason: string): Promise<void> {
    const line = `${JSON.stringify({ row, id: typeof id === 'string' ? id : null, ...(position ? { position } : {}), reason })}\n`;
    this.#bytes += Buffer.byteLength(line);
    if (!this.#stream.write(line)) await once(this.#stream, 'drain');
  }

  async close(): Promise<void> {
    this.#stream.end();
    await finished(this.#stream);
  }
}
