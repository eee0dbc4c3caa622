// The inference thread of a bundle loaded with `thread: true`: opens the sessions from the model files the loading
// thread checked, then runs the batches it is sent and sends the outputs back.
import { parentPort, workerData } from 'node:worker_threads';
import { ScorerError, findScorerError } from '../errors.js';
import { SessionRunner, type SessionThreadInit, type SessionThreadReply, type SessionThreadRequest } from './sessions.js';

const init = workerData as SessionThreadInit;
const port = parentPort;
if (port === null) throw new ScorerError('INTERNAL', 'src/inference/session-thread.ts runs as a worker thread only');

const failed = (id: number, err: unknown, fallback: 'MODEL_LOAD_FAILED' | 'INFERENCE_FAILED'): SessionThreadReply => {
  const code = findScorerError(err)?.code;
  return { type: 'failed', id, code: code === 'MODEL_LOAD_FAILED' || code === 'INFERENCE_FAILED' ? code : fallback, message: err instanceof Error ? err.message : String(err) };
};

try {
  const runner = await SessionRunner.open(init.manifest, init.files, init.settings);
  port.on('message', (request: SessionThreadRequest) => {
    if (request.type === 'close') {
      void runner.close().finally(() => port.close());
      return;
    }
    runner.run(request.features, request.rows).then(
      (outputs) => port.postMessage({ type: 'ran', id: request.id, outputs } satisfies SessionThreadReply),
      (err: unknown) => port.postMessage(failed(request.id, err, 'INFERENCE_FAILED')),
    );
  });
  port.postMessage({ type: 'ready' } satisfies SessionThreadReply);
} catch (err) {
  port.postMessage(failed(-1, err, 'MODEL_LOAD_FAILED'));
}
