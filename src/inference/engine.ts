import type { Opportunity, Scores, Verdict } from '../contract/index.js';
import { ScorerError } from '../errors.js';
import { FEATURE_COUNT, writeFeatures } from '../features/index.js';
import { MicroBatcher, type MicroBatcherObserver, type MicroBatcherOptions } from '../batching/index.js';
import type { ModelBundle } from './bundle.js';
import { decide } from './decision.js';

export interface ModelStamp {
  readonly bundle: string;
  readonly version: string;
}

/** The scores one bundle gave one opportunity. */
export interface BundleScore {
  readonly scores: Scores;
  readonly compositeScore: number;
  readonly verdict: Verdict;
  readonly model: ModelStamp;
}

/**
 * The scores of one opportunity and the bundle that produced all four numbers (with the shadow bundle's, when one
 * runs), or why it could not be scored.
 */
export type ScoreOutcome =
  | (BundleScore & { readonly ok: true; readonly shadow?: BundleScore | undefined })
  | { readonly ok: false; readonly error: ScorerError };

/** Which bundles serve: a primary, optionally a canary taking a sticky share, optionally a shadow scoring everything. */
export interface Routing {
  readonly primary: ModelBundle;
  readonly canary?: { readonly bundle: ModelBundle; readonly percent: number } | undefined;
  readonly shadow?: ModelBundle | undefined;
}

export interface EngineObserver extends MicroBatcherObserver {
  /** One model run's outputs; `role` tells the serving bundles (primary, canary, pinned) from the shadow. */
  onPredictions?(model: ModelStamp, profit: Float32Array, success: Float32Array, duration: Float32Array, rows: number, role: 'serving' | 'shadow'): void;
  /** One model run of `rows` rows took `seconds`. */
  onInference?(model: ModelStamp, rows: number, seconds: number): void;
  onShadow?(primary: BundleScore, shadow: BundleScore): void;
}

/**
 * What the engine scores besides a plain opportunity (the Kafka worker's and backfill's fast path): a precomputed
 * feature row in the bundle's feature order (OIP v2 tensors, the replaced servers' feature-vector bodies), or an
 * opportunity, either of them optionally pinned to one of the loaded bundles (a per-request model choice).
 */
export class ScoreRequest {
  private constructor(
    readonly opportunity: Opportunity | undefined,
    readonly features: Float32Array | undefined,
    readonly bundle: ModelBundle | undefined,
  ) {}

  static ofOpportunity(opportunity: Opportunity, bundle?: ModelBundle): ScoreRequest {
    return new ScoreRequest(opportunity, undefined, bundle);
  }

  /** `features`: FEATURE_COUNT values (copied when the batch runs, so the caller's buffer may be a view). */
  static ofFeatures(features: Float32Array, bundle?: ModelBundle): ScoreRequest {
    if (features.length !== FEATURE_COUNT) throw new ScorerError('VALIDATION_FAILED', `a feature row has ${FEATURE_COUNT} values, got ${features.length}`);
    return new ScoreRequest(undefined, features, bundle);
  }
}

export type EngineItem = Opportunity | ScoreRequest;

/** Sticky A/B assignment: FNV-1a of the opportunity id (or of its identity when it has none), in 10,000 buckets. */
export function abBucket(op: Opportunity): number {
  const key = op.id ?? `${op.symbol}|${op.longExchange}|${op.shortExchange}|${op.detectedAt}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % 10_000;
}

/**
 * features → bundle(s) → composite, for every caller through one shared micro-batcher. The routing is read once
 * per batch, so a batch in flight finishes on the bundles it started with and a reload never mixes versions.
 */
export class ScoringEngine {
  #routing: Routing;
  readonly #batcher: MicroBatcher<EngineItem, ScoreOutcome>;
  readonly #rows: Float32Array;
  readonly #subset: Float32Array;
  readonly #observer: EngineObserver;
  #inFlight: Promise<unknown> = Promise.resolve();

  constructor(routing: Routing | ModelBundle, batch: MicroBatcherOptions, observer: EngineObserver = {}) {
    this.#routing = 'primary' in routing ? routing : { primary: routing };
    this.#observer = observer;
    this.#rows = new Float32Array(batch.maxSize * FEATURE_COUNT);
    this.#subset = new Float32Array(batch.maxSize * FEATURE_COUNT);
    this.#batcher = new MicroBatcher(batch, (items) => {
      const run = this.#scoreBatch(items);
      this.#inFlight = run.catch(() => undefined);
      return run;
    }, observer);
  }

  get bundle(): ModelBundle {
    return this.#routing.primary;
  }

  get routing(): Routing {
    return this.#routing;
  }

  get queued(): number {
    return this.#batcher.queued;
  }

  /** Scores through the shared batcher, waiting for room when it is full (streaming callers). */
  score(items: readonly EngineItem[]): Promise<ScoreOutcome[]> {
    return this.#batcher.submit(items);
  }

  /** Scores, or fails at once with OVERLOADED when the queue is full (request/response callers). */
  tryScore(items: readonly EngineItem[]): Promise<ScoreOutcome[]> {
    return this.#batcher.trySubmit(items);
  }

  /** Dispatches waiting rows now (draining). */
  flush(): void {
    this.#batcher.flush();
  }

  /** Runs what is queued and stops accepting work. Bundles are left open (their owner closes them). */
  async close(): Promise<void> {
    await this.#batcher.close();
  }

  /**
   * Swaps the routing atomically: batches dispatched from now on use `next`. Resolves with the previous routing once
   * the batch that was running (if any) has finished, so its bundles can be closed safely.
   */
  async setRouting(next: Routing): Promise<Routing> {
    const previous = this.#routing;
    this.#routing = next;
    await this.#inFlight;
    return previous;
  }

  async #scoreBatch(items: readonly EngineItem[]): Promise<ScoreOutcome[]> {
    const routing = this.#routing;
    const n = items.length;
    // Rows pinned to a bundle, by bundle; the rest follow the routing. A feature row has no id to route by, so an
    // unpinned one goes to the primary.
    const routed: number[] = [];
    let pinned: Map<ModelBundle, number[]> | undefined;
    for (let i = 0; i < n; i++) {
      const item = items[i] as EngineItem;
      if (!(item instanceof ScoreRequest)) {
        writeFeatures(item, this.#rows, i * FEATURE_COUNT);
        routed.push(i);
        continue;
      }
      if (item.features !== undefined) this.#rows.set(item.features, i * FEATURE_COUNT);
      else writeFeatures(item.opportunity as Opportunity, this.#rows, i * FEATURE_COUNT);
      const target = item.bundle ?? (item.opportunity === undefined ? routing.primary : undefined);
      if (target === undefined) {
        routed.push(i);
        continue;
      }
      pinned ??= new Map();
      const list = pinned.get(target);
      if (list === undefined) pinned.set(target, [i]);
      else list.push(i);
    }
    const results = new Array<BundleScore | ScorerError>(n);
    const canary = routing.canary;
    if (pinned === undefined && (canary === undefined || canary.percent <= 0)) {
      await this.#predictInto(routing.primary, this.#rows, routed, results, 'serving');
    } else if (canary === undefined || canary.percent <= 0) {
      await this.#predictSubset(routing.primary, routed, results);
    } else {
      const threshold = canary.percent * 100;
      const toCanary: number[] = [];
      const toPrimary: number[] = [];
      for (const i of routed) (abBucket(opportunityOf(items[i] as EngineItem)) < threshold ? toCanary : toPrimary).push(i);
      await this.#predictSubset(routing.primary, toPrimary, results);
      await this.#predictSubset(canary.bundle, toCanary, results);
    }
    if (pinned !== undefined) for (const [bundle, indices] of pinned) await this.#predictSubset(bundle, indices, results);
    let shadows: Array<BundleScore | ScorerError> | undefined;
    if (routing.shadow !== undefined) {
      shadows = new Array<BundleScore | ScorerError>(n);
      await this.#predictInto(routing.shadow, this.#rows, range(n), shadows, 'shadow');
    }
    return results.map((r, i): ScoreOutcome => {
      if (r instanceof ScorerError) return { ok: false, error: r };
      const shadow = shadows?.[i];
      if (shadow === undefined || shadow instanceof ScorerError) return { ok: true, ...r };
      this.#observer.onShadow?.(r, shadow);
      return { ok: true, ...r, shadow };
    });
  }

  /** Gathers the rows of `indices` into a contiguous buffer and predicts them. */
  async #predictSubset(bundle: ModelBundle, indices: readonly number[], out: Array<BundleScore | ScorerError>): Promise<void> {
    if (indices.length === 0) return;
    indices.forEach((row, k) => this.#subset.set(this.#rows.subarray(row * FEATURE_COUNT, (row + 1) * FEATURE_COUNT), k * FEATURE_COUNT));
    await this.#predictInto(bundle, this.#subset, indices, out, 'serving');
  }

  /** Predicts `indices.length` rows at the start of `rows`, writing each result at its index; isolates failing rows. */
  async #predictInto(bundle: ModelBundle, rows: Float32Array, indices: readonly number[], out: Array<BundleScore | ScorerError>, role: 'serving' | 'shadow'): Promise<void> {
    const n = indices.length;
    try {
      const scored = await this.#predict(bundle, rows, n, role);
      indices.forEach((index, k) => (out[index] = scored[k] as BundleScore | ScorerError));
    } catch (err) {
      if (n === 1) {
        out[indices[0] as number] = asInferenceError(err);
        return;
      }
      // Isolate the row(s) that fail instead of failing every caller's events in this batch.
      const copy = rows.slice(0, n * FEATURE_COUNT);
      for (let k = 0; k < n; k++) {
        try {
          const [one] = await this.#predict(bundle, copy.subarray(k * FEATURE_COUNT), 1, role);
          out[indices[k] as number] = one as BundleScore | ScorerError;
        } catch (rowErr) {
          out[indices[k] as number] = asInferenceError(rowErr);
        }
      }
    }
  }

  async #predict(bundle: ModelBundle, rows: Float32Array, n: number, role: 'serving' | 'shadow'): Promise<Array<BundleScore | ScorerError>> {
    const started = performance.now();
    const p = await bundle.predict(rows, n);
    const model = { bundle: bundle.name, version: bundle.version };
    this.#observer.onInference?.(model, n, (performance.now() - started) / 1000);
    this.#observer.onPredictions?.(model, p.profit, p.success, p.duration, n, role);
    const out = new Array<BundleScore | ScorerError>(n);
    const decision = bundle.manifest.decision;
    for (let i = 0; i < n; i++) {
      const profit = p.profit[i] ?? Number.NaN;
      const success = p.success[i] ?? Number.NaN;
      const duration = p.duration[i] ?? Number.NaN;
      if (Number.isFinite(profit) && Number.isFinite(success) && Number.isFinite(duration)) {
        const scores = { predictedProfitPercent: profit, successProbability: success, predictedDurationHours: duration };
        const compositeScore = success * profit;
        out[i] = { scores, compositeScore, verdict: decide(decision, scores, compositeScore), model };
      } else {
        out[i] = new ScorerError('INFERENCE_FAILED', 'the models returned a non-finite score');
      }
    }
    return out;
  }
}

function opportunityOf(item: EngineItem): Opportunity {
  return item instanceof ScoreRequest ? (item.opportunity as Opportunity) : item;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function asInferenceError(err: unknown): ScorerError {
  return err instanceof ScorerError ? err : new ScorerError('INFERENCE_FAILED', err instanceof Error ? err.message : String(err), { cause: err });
}
