import type { Opportunity, Scores } from '../contract/index.js';
import { ScorerError } from '../errors.js';
import { FEATURE_COUNT, writeFeatures } from '../features/index.js';
import { MicroBatcher, type MicroBatcherObserver, type MicroBatcherOptions } from '../batching/index.js';
import type { ModelBundle } from './bundle.js';

export interface ModelStamp {
  readonly bundle: string;
  readonly version: string;
}

/** The scores of one opportunity and the bundle that produced all four numbers, or why it could not be scored. */
export type ScoreOutcome =
  | { readonly ok: true; readonly scores: Scores; readonly compositeScore: number; readonly model: ModelStamp }
  | { readonly ok: false; readonly error: ScorerError };

export interface EngineObserver extends MicroBatcherObserver {
  onPredictions?(model: ModelStamp, profit: Float32Array, success: Float32Array, duration: Float32Array, rows: number): void;
}

/**
 * features → three models → composite, for every caller through one shared micro-batcher. The bundle is read
 * once per batch, so a batch in flight finishes on the bundle it started with.
 */
export class ScoringEngine {
  #bundle: ModelBundle;
  readonly #batcher: MicroBatcher<Opportunity, ScoreOutcome>;
  readonly #rows: Float32Array;
  readonly #observer: EngineObserver;

  constructor(bundle: ModelBundle, batch: MicroBatcherOptions, observer: EngineObserver = {}) {
    this.#bundle = bundle;
    this.#observer = observer;
    this.#rows = new Float32Array(batch.maxSize * FEATURE_COUNT);
    this.#batcher = new MicroBatcher(batch, (items) => this.#scoreBatch(items), observer);
  }

  get bundle(): ModelBundle {
    return this.#bundle;
  }

  get queued(): number {
    return this.#batcher.queued;
  }

  /** Scores through the shared batcher, waiting for room when it is full (streaming callers). */
  score(opportunities: readonly Opportunity[]): Promise<ScoreOutcome[]> {
    return this.#batcher.submit(opportunities);
  }

  /** Scores, or fails at once with OVERLOADED when the queue is full (request/response callers). */
  tryScore(opportunities: readonly Opportunity[]): Promise<ScoreOutcome[]> {
    return this.#batcher.trySubmit(opportunities);
  }

  /** Dispatches waiting rows now (draining). */
  flush(): void {
    this.#batcher.flush();
  }

  /** Runs what is queued and stops accepting work. The bundle is left open (its owner closes it). */
  async close(): Promise<void> {
    await this.#batcher.close();
  }

  /** Swaps the serving bundle; batches already dispatched finish on the old one. Returns the old bundle. */
  swap(bundle: ModelBundle): ModelBundle {
    const old = this.#bundle;
    this.#bundle = bundle;
    return old;
  }

  async #scoreBatch(items: readonly Opportunity[]): Promise<ScoreOutcome[]> {
    const bundle = this.#bundle;
    const n = items.length;
    for (let i = 0; i < n; i++) writeFeatures(items[i] as Opportunity, this.#rows, i * FEATURE_COUNT);
    try {
      return await this.#predict(bundle, n);
    } catch (err) {
      if (n === 1) return [{ ok: false, error: asInferenceError(err) }];
      // Isolate the row(s) that fail instead of failing every caller's events in this batch.
      const outcomes: ScoreOutcome[] = [];
      const copy = this.#rows.slice(0, n * FEATURE_COUNT);
      for (let i = 0; i < n; i++) {
        this.#rows.set(copy.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT), 0);
        try {
          outcomes.push(...(await this.#predict(bundle, 1)));
        } catch (rowErr) {
          outcomes.push({ ok: false, error: asInferenceError(rowErr) });
        }
      }
      return outcomes;
    }
  }

  async #predict(bundle: ModelBundle, n: number): Promise<ScoreOutcome[]> {
    const p = await bundle.predict(this.#rows, n);
    const model = { bundle: bundle.name, version: bundle.version };
    this.#observer.onPredictions?.(model, p.profit, p.success, p.duration, n);
    const out: ScoreOutcome[] = new Array<ScoreOutcome>(n);
    for (let i = 0; i < n; i++) {
      const profit = p.profit[i] ?? Number.NaN;
      const success = p.success[i] ?? Number.NaN;
      const duration = p.duration[i] ?? Number.NaN;
      if (!Number.isFinite(profit) || !Number.isFinite(success) || !Number.isFinite(duration)) {
        out[i] = { ok: false, error: new ScorerError('INFERENCE_FAILED', 'the models returned a non-finite score') };
        continue;
      }
      out[i] = {
        ok: true,
        scores: { predictedProfitPercent: profit, successProbability: success, predictedDurationHours: duration },
        compositeScore: success * profit,
        model,
      };
    }
    return out;
  }
}

function asInferenceError(err: unknown): ScorerError {
  return err instanceof ScorerError ? err : new ScorerError('INFERENCE_FAILED', err instanceof Error ? err.message : String(err), { cause: err });
}
