import type { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { ScorerError } from '../errors.js';
import { startThread } from '../lifecycle/index.js';
import { FEATURE_COUNT } from '../features/index.js';
import { type BundleManifest, MODEL_NAMES, type ModelName } from './manifest.js';

/** Native outputs of the three models (what parity fixtures compare): success is P(success), duration is log1p(hours). */
export type RawOutputs = Readonly<Record<ModelName, Float32Array>>;

export interface SessionSettings {
  readonly intraOpNumThreads: number;
  readonly interOpNumThreads: number;
  /**
   * Run the sessions on a thread of their own. onnxruntime-node runs a session synchronously on the thread that
   * calls it, so in-thread inference takes its share of the event loop (a fifth of the worker's, by profile).
   */
  readonly thread: boolean;
  /**
   * With `thread`, batches of at least this many rows go to the thread and smaller ones run on the calling thread:
   * a small batch costs less to run (tens of µs) than the hop, and low-load latency stays what it was, while the
   * full batches of a catching-up worker (~250 rows) leave the event loop.
   */
  readonly threadMinRows: number;
}

/**
 * One thread per session: on 2 cores the worker's main thread and the co-located broker already take both; more
 * intra-op threads only compete with them (settable per deployment through SessionSettings).
 */
export const DEFAULT_SESSION_SETTINGS: SessionSettings = { intraOpNumThreads: 1, interOpNumThreads: 1, thread: false, threadMinRows: 64 };

/** What runs a bundle's three models (for at least one row): on the calling thread, or on a thread of its own. */
export interface ModelRunner {
  run(features: Float32Array, rows: number): Promise<RawOutputs>;
  close(): Promise<void>;
}

interface LoadedModel {
  readonly session: ort.InferenceSession;
  readonly input: string;
  readonly output: string;
  readonly column: number | undefined;
}

/** The three onnxruntime sessions, run on the thread that calls them. */
export class SessionRunner implements ModelRunner {
  readonly #models: Readonly<Record<ModelName, LoadedModel>>;

  private constructor(models: Record<ModelName, LoadedModel>) {
    this.#models = models;
  }

  /** Opens the sessions from model files already checked against the manifest. */
  static async open(manifest: BundleManifest, files: Readonly<Record<ModelName, Uint8Array>>, settings: SessionSettings): Promise<SessionRunner> {
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: settings.intraOpNumThreads,
      interOpNumThreads: settings.interOpNumThreads,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Idle intra-op threads would otherwise spin against the co-located broker.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    };
    const models = {} as Record<ModelName, LoadedModel>;
    try {
      for (const name of MODEL_NAMES) {
        const entry = manifest.models[name];
        const session = await ort.InferenceSession.create(files[name], options).catch((cause: unknown) => {
          throw new ScorerError('MODEL_LOAD_FAILED', `onnxruntime cannot load ${entry.file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
        });
        models[name] = { session, input: entry.input, output: entry.output, column: entry.outputColumn };
      }
    } catch (err) {
      await Promise.all(Object.values(models).map((m) => m.session.release()));
      throw err;
    }
    return new SessionRunner(models);
  }

  async run(features: Float32Array, rows: number): Promise<RawOutputs> {
    const input = new ort.Tensor('float32', features.subarray(0, rows * FEATURE_COUNT), [rows, FEATURE_COUNT]);
    const out = {} as Record<ModelName, Float32Array>;
    for (const name of MODEL_NAMES) {
      const model = this.#models[name];
      let result: ort.InferenceSession.ReturnType;
      try {
        result = await model.session.run({ [model.input]: input }, [model.output]);
      } catch (cause) {
        throw new ScorerError('INFERENCE_FAILED', `${name} model failed on ${rows} rows: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      }
      const tensor = result[model.output];
      if (tensor === undefined) throw new ScorerError('INFERENCE_FAILED', `${name} model returned no ${model.output}`);
      const data = tensor.data as Float32Array;
      out[name] = model.column === undefined ? data : column(data, tensor.dims[1] ?? 1, model.column, rows);
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(MODEL_NAMES.map((n) => this.#models[n].session.release()));
  }
}

function column(data: Float32Array, width: number, col: number, rows: number): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = data[r * width + col] ?? Number.NaN;
  return out;
}

/** What the session thread starts with: the model files the loading thread has already checked against the manifest. */
export interface SessionThreadInit {
  readonly manifest: BundleManifest;
  readonly files: Readonly<Record<ModelName, Uint8Array>>;
  readonly settings: SessionSettings;
}

export type SessionThreadRequest = { readonly type: 'run'; readonly id: number; readonly features: Float32Array; readonly rows: number } | { readonly type: 'close' };

export type SessionThreadReply =
  | { readonly type: 'ready' }
  | { readonly type: 'ran'; readonly id: number; readonly outputs: RawOutputs }
  /** id -1: the thread could not open the sessions. */
  | { readonly type: 'failed'; readonly id: number; readonly code: 'MODEL_LOAD_FAILED' | 'INFERENCE_FAILED'; readonly message: string };

interface Pending {
  readonly resolve: (outputs: RawOutputs) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The sessions on a thread of their own (src/inference/session-thread.ts), opened from the checked model files it is
 * given. Rows are copied to it (the caller may reuse its buffer); the outputs come back moved. A
 * thread that dies fails what it held with INFERENCE_FAILED, and the next run starts a new one.
 */
export class ThreadRunner implements ModelRunner {
  readonly #init: SessionThreadInit;
  readonly #entry: URL | undefined;
  readonly #pending = new Map<number, Pending>();
  #worker: Promise<Worker> | undefined;
  #id = 0;
  #closed = false;

  private constructor(init: SessionThreadInit, entry: URL | undefined) {
    this.#init = init;
    this.#entry = entry;
  }

  /** `entry`: the thread's script, session-thread by default (tests give one that dies on cue). */
  static async start(init: SessionThreadInit, entry?: URL): Promise<ThreadRunner> {
    const runner = new ThreadRunner(init, entry);
    await runner.#thread();
    return runner;
  }

  async run(features: Float32Array, rows: number): Promise<RawOutputs> {
    if (this.#closed) throw new ScorerError('INTERNAL', 'the inference thread is closed');
    const worker = await this.#thread();
    const copy = features.slice(0, rows * FEATURE_COUNT);
    const id = this.#id++;
    return new Promise<RawOutputs>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ type: 'run', id, features: copy, rows } satisfies SessionThreadRequest, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const worker = await this.#worker?.catch(() => undefined);
    if (worker === undefined) return;
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.postMessage({ type: 'close' } satisfies SessionThreadRequest);
    });
  }

  #thread(): Promise<Worker> {
    this.#worker ??= this.#spawn().catch((err: unknown) => {
      this.#worker = undefined;
      throw err;
    });
    return this.#worker;
  }

  #spawn(): Promise<Worker> {
    const worker = startThread(import.meta.url, 'session-thread', { workerData: this.#init }, this.#entry);
    return new Promise<Worker>((resolve, reject) => {
      let ready = false;
      // 'exit' always follows 'error': the error, when there was one, says why the thread ended.
      let error: Error | undefined;
      worker.on('message', (reply: SessionThreadReply) => {
        if (reply.type === 'ready') {
          ready = true;
          resolve(worker);
        } else if (reply.type === 'failed' && reply.id === -1) {
          reject(new ScorerError(reply.code, `the inference thread could not open the models: ${reply.message}`));
        } else {
          this.#settle(reply);
        }
      });
      worker.on('error', (err) => (error = err));
      worker.on('exit', (code) => {
        if (!ready) {
          const reason = error === undefined ? `exited (code ${code}) while starting` : `failed while starting: ${error.message}`;
          reject(new ScorerError('MODEL_LOAD_FAILED', `the inference thread ${reason}`, { cause: error }));
        }
        // Not closing: a new thread starts with the next run.
        if (!this.#closed) this.#worker = undefined;
        const why = error === undefined ? `exited (code ${code}) with batches in flight` : `failed: ${error.message}`;
        this.#failAll(new ScorerError('INFERENCE_FAILED', `the inference thread ${why}`, { cause: error }));
      });
    });
  }

  #settle(reply: Exclude<SessionThreadReply, { type: 'ready' }>): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (reply.type === 'ran') pending.resolve(reply.outputs);
    else pending.reject(new ScorerError(reply.code, reply.message));
  }

  #failAll(err: ScorerError): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }
}
