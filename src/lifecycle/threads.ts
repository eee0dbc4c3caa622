import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running the module `name` beside `moduleUrl`: its .ts source when the caller runs from source
 * (tsx, tests), which the thread then loads through tsx, else the compiled .js. A compiled thread inherits the
 * process's node options rather than being handed process.execArgv: Worker refuses V8 flags in execArgv
 * (ERR_WORKER_INVALID_EXEC_ARGV), so `node --max-old-space-size=… bin/opportunity-scorer.js` could not start a thread.
 * `entry` replaces the module (tests give threads that fail on cue).
 */
export function startThread(moduleUrl: string, name: string, options: Omit<WorkerOptions, 'execArgv'>, entry?: URL): Worker {
  const fromSource = moduleUrl.endsWith('.ts');
  const script = entry ?? new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, moduleUrl);
  return new Worker(script, fromSource ? { ...options, execArgv: ['--import', 'tsx'] } : options);
}
