import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { type ErrorCode, ScorerError } from '../errors.js';
import type { LineChunk } from '../files/index.js';
import { startThread } from '../lifecycle/index.js';
import type { ScoredRows } from './score-rows.js';

export interface ThreadInit {
  readonly primaryDir: string;
  readonly shadowDir?: string | undefined;
  readonly chunkSize: number;
  readonly scoredAt: 'event' | number;
  /** Encode each chunk's outputs as JSONL in the thread (for a JSONL file sink). */
  readonly encodeJsonl?: boolean;
}

/**
 * A chunk goes as the file's bytes of its lines, moved (not copied) to the thread, and the row of its first line:
 * the thread decodes and splits them, so the main thread does not touch a line.
 */
export type ThreadRequest = { readonly type: 'score'; readonly id: number; readonly firstRow: number; readonly bytes: Uint8Array } | { readonly type: 'close' };

export type ThreadReply =
  | { readonly type: 'ready' }
  | { readonly type: 'scored'; readonly id: number; readonly result: ScoredRows }
  /** id -1: the thread could not start (its bundles did not load). */
  | { readonly type: 'failed'; readonly id: number; readonly code: ErrorCode; readonly message: string };

/** Threads `--threads auto` starts: one per core, at most 4 (the main thread reads, writes and keeps the order). */
export function autoThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

interface Pending {
  readonly resolve: (result: ScoredRows) => void;
  readonly reject: (err: unknown) => void;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  exited: boolean;
}

/**
 * Scoring threads for a parallel file backfill: each loads the pinned bundles and scores the chunks of JSONL lines
 * it is given through the same code as the main thread. Chunks go round-robin; each promise settles with its own
 * chunk's results, so the caller keeps the input order by awaiting them in order.
 */
export class ScoringThreads {
  readonly #threads: Thread[];
  #next = 0;
  #id = 0;
  #closed = false;

  private constructor(threads: Thread[]) {
    this.#threads = threads;
  }

  /** Starts `count` threads and waits until every one has loaded its bundles; a thread that cannot fails the start. */
  static async start(count: number, init: ThreadInit): Promise<ScoringThreads> {
    const threads: Thread[] = [];
    const started = Array.from({ length: count }, () => {
      const worker = startThread(import.meta.url, 'thread', { workerData: init });
      const thread: Thread = { worker, pending: new Map(), exited: false };
      threads.push(thread);
      return new Promise<void>((resolve, reject) => {
        worker.on('message', (reply: ThreadReply) => {
          if (reply.type === 'ready') resolve();
          else if (reply.type === 'failed' && reply.id === -1) reject(new ScorerError(reply.code, `a scoring thread could not start: ${reply.message}`));
          else settle(thread, reply);
        });
        worker.on('error', (err) => {
          reject(err);
          failAll(thread, err);
        });
        worker.on('exit', (code) => {
          thread.exited = true;
          reject(new ScorerError('INTERNAL', `a scoring thread exited (code ${code}) while starting`));
          failAll(thread, new ScorerError('INTERNAL', `a scoring thread exited (code ${code}) with chunks in flight`));
        });
      });
    });
    const pool = new ScoringThreads(threads);
    try {
      await Promise.all(started);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Threads in the pool. */
  get size(): number {
    return this.#threads.length;
  }

  score(chunk: LineChunk): Promise<ScoredRows> {
    if (this.#closed) return Promise.reject(new ScorerError('SHUTTING_DOWN', 'the scoring threads are closed'));
    const thread = this.#threads[this.#next] as Thread;
    this.#next = (this.#next + 1) % this.#threads.length;
    const id = this.#id++;
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ type: 'score', id, firstRow: chunk.firstRow, bytes: chunk.bytes } satisfies ThreadRequest, [chunk.bytes.buffer as ArrayBuffer]);
    });
  }

  /** Lets every thread finish what it holds, close its sessions and exit. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      this.#threads.map((t) =>
        t.exited
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              t.worker.once('exit', () => resolve());
              t.worker.postMessage({ type: 'close' } satisfies ThreadRequest);
            }),
      ),
    );
  }
}

function settle(thread: Thread, reply: Exclude<ThreadReply, { type: 'ready' }>): void {
  const pending = thread.pending.get(reply.id);
  if (pending === undefined) return;
  thread.pending.delete(reply.id);
  if (reply.type === 'scored') pending.resolve(reply.result);
  else pending.reject(new ScorerError(reply.code, reply.message));
}

function failAll(thread: Thread, err: unknown): void {
  for (const p of thread.pending.values()) p.reject(err);
  thread.pending.clear();
}
