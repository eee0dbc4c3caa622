import type { EngineObserver } from '../inference/index.js';
import type { ManagerObserver } from '../registry/index.js';
import type { Metrics } from './metrics.js';

/**
 * The engine's observations as metrics: batch sizes and waits, model timings, the serving bundles' predictions and
 * how far the shadow bundle is from them.
 */
export function engineMetrics(metrics: Metrics, options: { readonly shadowDecisionThreshold: number }): EngineObserver {
  const threshold = options.shadowDecisionThreshold;
  // Series resolved once: observing through them is a bound search and three additions per output and event.
  const profitHistogram = metrics.predictions.labels({ output: 'profit_percent' });
  const successHistogram = metrics.predictions.labels({ output: 'success_probability' });
  const durationHistogram = metrics.predictions.labels({ output: 'duration_hours' });
  return {
    onDispatch: (size, waitedMs) => {
      metrics.batchSize.observe(size);
      metrics.batchWait.observe(waitedMs / 1000);
    },
    onInference: (model, _rows, seconds) => metrics.inferenceLatency.observe({ model_name: model.bundle }, seconds),
    onPredictions: (model, profit, success, duration, rows, role) => {
      // Shadow runs are counted by shadow_events_total; these are the scores callers get.
      if (role === 'shadow') return;
      metrics.eventsScored.inc({ bundle: model.bundle, version: model.version }, rows);
      for (let i = 0; i < rows; i++) {
        profitHistogram.observe(profit[i] ?? 0);
        successHistogram.observe(success[i] ?? 0);
        durationHistogram.observe(duration[i] ?? 0);
      }
    },
    onShadow: (serving, shadow) => {
      metrics.shadowEvents.inc();
      metrics.shadowAbsDelta.inc({ output: 'profit_percent' }, Math.abs(shadow.scores.predictedProfitPercent - serving.scores.predictedProfitPercent));
      metrics.shadowAbsDelta.inc({ output: 'success_probability' }, Math.abs(shadow.scores.successProbability - serving.scores.successProbability));
      metrics.shadowAbsDelta.inc({ output: 'duration_hours' }, Math.abs(shadow.scores.predictedDurationHours - serving.scores.predictedDurationHours));
      metrics.shadowAbsDelta.inc({ output: 'composite_score' }, Math.abs(shadow.compositeScore - serving.compositeScore));
      if (shadow.compositeScore >= threshold !== serving.compositeScore >= threshold) metrics.shadowDecisionDisagreements.inc();
    },
  };
}

/** Reloads and the serving set as metrics: `model_info` carries each loaded bundle's role, alias and traffic share. */
export function modelManagerMetrics(metrics: Metrics): Required<ManagerObserver> {
  return {
    onReload: (result) => metrics.modelReloads.inc({ result }),
    onRouting: (r) => {
      metrics.modelInfo.reset();
      const canaryShare = r.canary?.percent ?? 0;
      metrics.modelInfo.set({ bundle: r.primary.bundle, version: r.primary.version, role: 'primary', alias: r.primary.alias ?? '' }, 1);
      if (r.canary !== undefined) metrics.modelInfo.set({ bundle: r.canary.model.bundle, version: r.canary.model.version, role: 'canary', alias: r.canary.model.alias ?? '' }, canaryShare);
      if (r.shadow !== undefined) metrics.modelInfo.set({ bundle: r.shadow.bundle, version: r.shadow.version, role: 'shadow', alias: r.shadow.alias ?? '' }, 1);
    },
  };
}
