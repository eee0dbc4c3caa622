// A scoring thread of a parallel backfill: loads the pinned bundles itself, then scores the chunks of JSONL lines it
// is sent (the file's bytes) through the code the main thread reads a file with (chunkRows → parseJsonlLine →
// scoreRows), and sends the results back.
import { parentPort, workerData } from 'node:worker_threads';
import { ScorerError, findScorerError } from '../errors.js';
import { chunkRows, parseJsonlLine } from '../files/index.js';
import { ScoringEngine } from '../inference/index.js';
import { loadReadyBundle } from '../registry/index.js';
import { scoreRows } from './score-rows.js';
import { jsonlText } from './sinks.js';
import type { ThreadInit, ThreadReply, ThreadRequest } from './threads.js';

const init = workerData as ThreadInit;
const port = parentPort;
if (port === null) throw new ScorerError('INTERNAL', 'src/backfill/thread.ts runs as a worker thread only');

const toReply = (id: number, err: unknown): ThreadReply => {
  const scorer = findScorerError(err);
  return { type: 'failed', id, code: scorer?.code ?? 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
};

try {
  const primary = await loadReadyBundle(init.primaryDir);
  const shadow = init.shadowDir === undefined ? undefined : await loadReadyBundle(init.shadowDir);
  const engine = new ScoringEngine({ primary, shadow }, { maxSize: init.chunkSize, maxDelayMs: 0, queueMax: init.chunkSize * 4 });
  port.on('message', (request: ThreadRequest) => {
    if (request.type === 'close') {
      void engine
        .close()
        .then(() => Promise.all([primary.close(), shadow?.close()]))
        .finally(() => port.close());
      return;
    }
    const rows = chunkRows(request).map(({ row, line }) => ({ row, decoded: parseJsonlLine(row, line) }));
    scoreRows(rows, engine, init.scoredAt, init.encodeJsonl === true ? jsonlText : undefined).then(
      // The encoded bytes and the statistics' numbers move to the main thread instead of being copied.
      (result) => port.postMessage({ type: 'scored', id: request.id, result } satisfies ThreadReply, [...(result.encoded === undefined ? [] : [result.encoded.buffer]), result.stats.numbers.buffer] as ArrayBuffer[]),
      (err: unknown) => port.postMessage(toReply(request.id, err)),
    );
  });
  port.postMessage({ type: 'ready' } satisfies ThreadReply);
} catch (err) {
  port.postMessage(toReply(-1, err));
}
