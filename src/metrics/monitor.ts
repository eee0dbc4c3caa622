import { Counter, Gauge, type Registry } from 'prom-client';

const PREFIX = 'opportunity_scorer_';

/** A version's live figures as the gauges need them (the monitor's LiveFigures fit). */
export interface LiveGaugeFigures {
  readonly bundle: string;
  readonly version: string;
  readonly pairs: number;
  readonly lastClosedAt: string | null;
  readonly brier: number;
  readonly logLoss: number;
  readonly calibrationError: number;
  readonly reliability: ReadonlyArray<{ readonly count: number; readonly meanPredicted: number; readonly observedRate: number }>;
  readonly rocAuc: number;
  readonly precisionAtTopDecile: number;
  readonly profitMae: number;
  readonly durationMae: number;
  readonly take: { readonly count: number; readonly meanRealisedProfitPercent: number };
  readonly heuristic: { readonly rocAuc: number; readonly precisionAtTopDecile: number };
}

/** What the monitor's gauges read when Prometheus scrapes. */
export interface MonitorSources {
  readonly live: () => readonly LiveGaugeFigures[];
  /** The card's figures of a version (undefined when its bundle is not in MODEL_DIR or the card lacks them). */
  readonly card: (bundle: string, version: string) => { readonly calibrationError?: number; readonly rocAuc?: number } | undefined;
  readonly store: () => { readonly waiting: number; readonly unmatched: Readonly<Record<string, number>>; readonly predictions: number; readonly bytes: number };
  /** Epoch ms when the last new pair reached the live window (undefined: none yet). */
  readonly lastPairAt: () => number | undefined;
}

export interface MonitorMetrics {
  readonly records: Counter<'side' | 'result'>;
  readonly pairsPublished: Counter;
  readonly rebuiltRecords: Counter<'topic'>;
  readonly outcomesAccepted: Counter<'route'>;
}

/**
 * The monitor's metrics on the injected registry. Live figures are gauges per bundle and version (reliability
 * also per bin, 10 values), computed when scraped from the window every replica reads alike; store counts cover
 * the partitions this replica owns (sum them over replicas).
 */
export function createMonitorMetrics(registry: Registry, sources: MonitorSources): MonitorMetrics {
  const registers = [registry];
  const labelNames = ['bundle', 'version'] as const;
  // One gauge per bundle and version, set when scraped; NaN and undefined values are left out.
  const perVersion = (name: string, help: string, value: (f: LiveGaugeFigures) => number | undefined): void => {
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const f of sources.live()) {
          const v = value(f);
          if (v !== undefined && Number.isFinite(v)) this.set({ bundle: f.bundle, version: f.version }, v);
        }
      },
    });
  };
  const live = (name: string, help: string, value: (f: LiveGaugeFigures) => number): void => perVersion(`live_${name}`, help, value);
  live('pairs', 'Joined prediction/outcome pairs in the live window of each model version.', (f) => f.pairs);
  live('brier_score', 'Brier score of successProbability over the live window.', (f) => f.brier);
  live('log_loss', 'Log loss of successProbability over the live window.', (f) => f.logLoss);
  live('calibration_error', 'Expected calibration error (10 equal-count bins) over the live window; compare with card_calibration_error.', (f) => f.calibrationError);
  live('roc_auc', 'ROC-AUC of successProbability against realised success over the live window.', (f) => f.rocAuc);
  live('precision_at_top_decile', 'Share of successes among the top tenth by rank score over the live window.', (f) => f.precisionAtTopDecile);
  live('profit_mae_percent', 'Mean absolute error of predictedProfitPercent against realised profit.', (f) => f.profitMae);
  live('duration_mae_hours', 'Mean absolute error of predictedDurationHours against the realised hold.', (f) => f.durationMae);
  live('take_pairs', 'Pairs in the live window whose prediction said take.', (f) => f.take.count);
  live('take_realised_profit_percent', 'Mean realised profit of the pairs whose prediction said take.', (f) => f.take.meanRealisedProfitPercent);
  live('heuristic_roc_auc', 'ROC-AUC of the funding-differential ranking on the same pairs (the baseline to beat).', (f) => f.heuristic.rocAuc);
  live('heuristic_precision_at_top_decile', 'Precision at the top decile of the funding-differential ranking on the same pairs.', (f) => f.heuristic.precisionAtTopDecile);
  live('last_closed_timestamp_seconds', 'closedAt of the newest pair in the live window.', (f) => (f.lastClosedAt === null ? Number.NaN : Date.parse(f.lastClosedAt) / 1000));
  for (const [name, help, pick] of [
    ['reliability_observed_rate', 'Realised success rate per reliability bin (equal-count bins of the prediction, 0 lowest).', (b: { observedRate: number }) => b.observedRate],
    ['reliability_mean_predicted', 'Mean successProbability per reliability bin.', (b: { meanPredicted: number }) => b.meanPredicted],
  ] as const) {
    new Gauge({
      name: `${PREFIX}live_${name}`,
      help,
      labelNames: ['bundle', 'version', 'bin'],
      registers,
      collect() {
        this.reset();
        for (const f of sources.live()) f.reliability.forEach((b, i) => this.set({ bundle: f.bundle, version: f.version, bin: String(i) }, pick(b)));
      },
    });
  }
  perVersion('card_calibration_error', "The model card's walk-forward calibration error of each version with live pairs.", (f) => sources.card(f.bundle, f.version)?.calibrationError);
  perVersion('card_roc_auc', "The model card's walk-forward ROC-AUC of each version with live pairs.", (f) => sources.card(f.bundle, f.version)?.rocAuc);
  const storeGauge = (name: string, help: string, labels: readonly string[], fill: (g: Gauge<string>, s: ReturnType<MonitorSources['store']>) => void): void => {
    new Gauge({
      name: `${PREFIX}monitor_${name}`,
      help,
      labelNames: labels,
      registers,
      collect() {
        this.reset();
        fill(this, sources.store());
      },
    });
  };
  storeGauge('outcomes_waiting', 'Outcomes of owned partitions waiting for their prediction (within OUTCOME_WAIT_MS).', [], (g, s) => g.set(s.waiting));
  storeGauge('outcomes_unmatched', 'Outcomes of owned partitions that found no prediction, by reason.', ['reason'], (g, s) => {
    for (const [reason, n] of Object.entries(s.unmatched)) g.set({ reason }, n);
  });
  storeGauge('store_predictions', 'Predictions of owned partitions in the join store.', [], (g, s) => g.set(s.predictions));
  storeGauge('store_bytes', 'Size of the join store file.', [], (g, s) => g.set(s.bytes));
  new Gauge({
    name: `${PREFIX}monitor_last_pair_timestamp_seconds`,
    help: 'When the last new pair reached the live window (a join that stalls stops moving it).',
    registers,
    collect() {
      this.reset();
      const at = sources.lastPairAt();
      if (at !== undefined) this.set(at / 1000);
    },
  });
  return {
    records: new Counter({ name: `${PREFIX}monitor_records_total`, help: 'Scored and outcome records the join processed, by result (applied, duplicate, dead_lettered).', labelNames: ['side', 'result'], registers }),
    pairsPublished: new Counter({ name: `${PREFIX}monitor_pairs_total`, help: 'Pairs the join completed and handed to the evaluated topic (repeats of retried chunks included).', registers }),
    rebuiltRecords: new Counter({ name: `${PREFIX}monitor_rebuilt_records_total`, help: 'Records read back to rebuild partitions of the join store, by topic.', labelNames: ['topic'], registers }),
    outcomesAccepted: new Counter({ name: `${PREFIX}monitor_outcomes_accepted_total`, help: 'Outcomes accepted over HTTP and written to the outcomes topic, by route.', labelNames: ['route'], registers }),
  };
}
