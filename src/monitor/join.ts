import { type EvaluatedPair, evaluatedPair } from './evaluated.js';
import type { JoinRow, JoinStore, OutcomeSide, PredictionSide } from './store.js';

/** The record being processed: `tag` names it ("s:<partition>:<offset>" or "o:…") in the store. */
export type Mode = { readonly kind: 'live'; readonly tag: string } | { readonly kind: 'rebuild'; readonly tag: string };

/** Whether a second prediction for an id was a different record (the first one stays). */
export interface ApplyResult {
  readonly pairs: EvaluatedPair[];
  readonly duplicate: boolean;
}

/**
 * The join's rules, on the store. A pair is published by the processing of the record that completes it (the
 * later of the two sides), and the store remembers which record that was (`emittedBy`): a record fetched again
 * after a crash (its offset was never committed) publishes its pairs again, and no other record does, so
 * exactly-once delivery stays exactly once and at-least-once repeats only what was in flight. A record read back
 * while rebuilding a partition is already committed; a pair it completes that the evaluated topic does not have
 * is published by the live record that triggered the rebuild (tagged to it, so it too is repeated after a crash).
 */
export class OutcomeJoin {
  readonly #store: JoinStore;

  constructor(store: JoinStore) {
    this.#store = store;
  }

  applyPrediction(id: string, partition: number, prediction: PredictionSide, mode: Mode): ApplyResult {
    const row = this.#store.get(id);
    if (row?.prediction !== undefined && row.prediction.offset !== prediction.offset) {
      return { pairs: this.#live(id, mode), duplicate: true };
    }
    if (row?.prediction === undefined) this.#store.putPrediction(id, partition, prediction);
    return { pairs: this.#settle(id, mode), duplicate: false };
  }

  applyOutcome(id: string, partition: number, outcome: OutcomeSide, mode: Mode): ApplyResult {
    const row = this.#store.get(id);
    if (row?.outcome !== undefined && row.outcome.offset !== outcome.offset) {
      this.#store.addDuplicate(partition, outcome.offset, id);
      return { pairs: this.#live(id, mode), duplicate: true };
    }
    if (row?.outcome === undefined) this.#store.putOutcome(id, partition, outcome);
    return { pairs: this.#settle(id, mode), duplicate: false };
  }

  /** A pair read from the evaluated topic: published already, whoever did it. */
  applyEvaluated(pair: EvaluatedPair): void {
    const row = this.#store.get(pair.id);
    if (row?.prediction === undefined) this.#store.putPrediction(pair.id, pair.partition, pair.prediction);
    if (row?.outcome === undefined) this.#store.putOutcome(pair.id, pair.partition, pair.outcome);
    this.#store.setEmittedBy(pair.id, 'evaluated');
  }

  #settle(id: string, mode: Mode): EvaluatedPair[] {
    const row = this.#store.get(id) as JoinRow;
    const out: EvaluatedPair[] = [];
    if (row.prediction !== undefined && row.outcome !== undefined && !row.expired) {
      if (row.emittedBy === null) {
        this.#store.setEmittedBy(id, mode.tag);
        out.push(evaluatedPair(id, row.partition, row.prediction, row.outcome));
      } else if (mode.kind === 'live' && row.emittedBy === mode.tag) {
        out.push(evaluatedPair(id, row.partition, row.prediction, row.outcome));
      }
    }
    if (mode.kind === 'live') out.push(...this.#live(id, mode));
    return out;
  }

  /** Pairs a rebuild tagged to this live record (besides its own id). */
  #live(id: string, mode: Mode): EvaluatedPair[] {
    if (mode.kind !== 'live') return [];
    return this.#store
      .taggedTo(mode.tag)
      .filter((r) => r.id !== id && r.prediction !== undefined && r.outcome !== undefined)
      .map((r) => evaluatedPair(r.id, r.partition, r.prediction as PredictionSide, r.outcome as OutcomeSide));
  }
}
