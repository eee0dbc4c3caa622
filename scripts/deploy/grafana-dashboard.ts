// Regenerates deploy/grafana/opportunity-scorer.json. Usage: npm run deploy:dashboard
// The dashboard is code so that its queries stay consistent; a test checks every query against docs/metrics.md and
// promtool's parser.
import { writeFileSync } from 'node:fs';

const P = 'opportunity_scorer_';
const sel = 'instance=~"$instance"';
const ds = { type: 'prometheus', uid: '${datasource}' };

interface Target {
  readonly expr: string;
  readonly legend: string;
}

let nextId = 1;
let y = 0;
const panels: unknown[] = [];

function row(title: string, repeat?: string): void {
  panels.push({ type: 'row', title, id: nextId++, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, ...(repeat === undefined ? {} : { repeat }) });
  y += 1;
}

/** Lays panels out left to right, `w` grid units each, on one line of the dashboard. */
function line(height: number, ...items: Array<Record<string, unknown> & { w: number }>): void {
  let x = 0;
  for (const { w, ...panel } of items) {
    panels.push({ ...panel, id: nextId++, datasource: ds, gridPos: { h: height, w, x, y } });
    x += w;
  }
  y += height;
}

const targets = (ts: readonly Target[]): unknown[] =>
  ts.map((t, i) => ({ datasource: ds, expr: t.expr, legendFormat: t.legend, refId: String.fromCharCode(65 + i) }));

function timeseries(w: number, title: string, unit: string, description: string, ts: readonly Target[]): Record<string, unknown> & { w: number } {
  return {
    w,
    type: 'timeseries',
    title,
    description,
    fieldConfig: { defaults: { unit, custom: { lineWidth: 1, fillOpacity: 10 } }, overrides: [] },
    options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi' } },
    targets: targets(ts),
  };
}

function stat(w: number, title: string, unit: string, description: string, expr: string, thresholds?: Array<[number | null, string]>): Record<string, unknown> & { w: number } {
  return {
    w,
    type: 'stat',
    title,
    description,
    fieldConfig: {
      defaults: {
        unit,
        thresholds: { mode: 'absolute', steps: (thresholds ?? [[null, 'green']]).map(([value, color]) => ({ value, color })) },
      },
      overrides: [],
    },
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'area' },
    targets: targets([{ expr, legend: '' }]),
  };
}

const quantiles = (metric: string, by: string, filter: string, legend: (q: string) => string, qs = ['0.5', '0.95', '0.99']): Target[] =>
  qs.map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${P}${metric}_bucket{${sel}${filter ? `, ${filter}` : ''}}[$__rate_interval])))`,
    legend: legend(q),
  }));

row('Overview');
line(
  4,
  stat(4, 'Scored / s', 'ops', 'Events scored per second, all replicas (Kafka and HTTP).', `sum(rate(${P}events_scored_total{${sel}}[$__rate_interval]))`),
  stat(4, 'Consumer lag', 'short', 'Records waiting in the input partitions, summed over the group (read at scrape time).', `sum(${P}consumer_lag_records{${sel}})`, [[null, 'green'], [10000, 'orange'], [100000, 'red']]),
  stat(4, 'Dead-lettered / s', 'ops', 'Events written to the dead-letter topic per second.', `sum(rate(${P}events_dead_lettered_total{${sel}}[$__rate_interval])) or vector(0)`, [[null, 'green'], [0.1, 'orange'], [10, 'red']]),
  stat(4, 'Event age p99', 's', 'Time from the Kafka record timestamp to publish, 99th percentile.', `histogram_quantile(0.99, sum by (le) (rate(${P}event_age_seconds_bucket{${sel}, clock="kafka"}[$__rate_interval])))`, [[null, 'green'], [1, 'orange'], [5, 'red']]),
  stat(4, 'Replicas up', 'short', 'Scrape targets answering.', `sum(up{job="opportunity-scorer", ${sel}})`, [[null, 'red'], [1, 'green']]),
  stat(4, 'In flight', 'short', 'Events read from Kafka and not yet committed.', `sum(${P}in_flight_events{${sel}})`),
);

row('Throughput');
line(
  8,
  timeseries(12, 'Events per second', 'ops', 'Consumed, scored, dead-lettered and dropped events.', [
    { expr: `sum by (topic) (rate(${P}events_consumed_total{${sel}}[$__rate_interval]))`, legend: 'consumed {{topic}}' },
    { expr: `sum(rate(${P}events_scored_total{${sel}}[$__rate_interval]))`, legend: 'scored' },
    { expr: `sum(rate(${P}events_dead_lettered_total{${sel}}[$__rate_interval]))`, legend: 'dead-lettered' },
    { expr: `sum(rate(${P}events_dropped_total{${sel}}[$__rate_interval]))`, legend: 'dropped' },
  ]),
  timeseries(12, 'Dead letters by reason', 'ops', 'Error codes are listed in docs/errors.md.', [
    { expr: `sum by (reason) (rate(${P}events_dead_lettered_total{${sel}}[$__rate_interval]))`, legend: '{{reason}}' },
  ]),
);

row('Latency and lag');
line(
  8,
  timeseries(8, 'Event age at publish', 's', 'clock=kafka: since the record reached Kafka; clock=detected: since the detector saw the opportunity.', [
    ...quantiles('event_age_seconds', 'clock', '', (q) => `p${Number(q) * 100} {{clock}}`),
  ]),
  timeseries(8, 'Consumer lag by partition', 'short', 'Each replica reports the partitions it owns.', [
    { expr: `${P}consumer_lag_records{${sel}}`, legend: '{{topic}}/{{partition}}' },
  ]),
  timeseries(8, 'Stage duration p99 (per chunk)', 's', 'decode, validate, features, inference, encode, produce, commit.', quantiles('stage_duration_seconds', 'stage', '', () => '{{stage}}', ['0.99'])),
);
line(
  8,
  timeseries(8, 'Batch size', 'short', 'Rows per model run: small batches under light load, up to BATCH_MAX_SIZE when busy.', [
    ...quantiles('batch_size', '', '', (q) => `p${Number(q) * 100}`, ['0.5', '0.95']),
    { expr: `sum(rate(${P}batch_size_sum{${sel}}[$__rate_interval])) / sum(rate(${P}batch_size_count{${sel}}[$__rate_interval]))`, legend: 'mean' },
  ]),
  timeseries(8, 'Batch wait', 's', 'How long the first row of a batch waited for it to fill (bounded by BATCH_MAX_DELAY_MS).', quantiles('batch_wait_seconds', '', '', (q) => `p${Number(q) * 100}`)),
  timeseries(8, 'Kafka errors', 'ops', 'Failed writes and their retries (the worker commits nothing it has not written), lag reads that failed, and consumer restarts after a crash: by the client, or by the worker once the client gave up (a worker that keeps restarting cannot join its group: check ACLs and the brokers).', [
    { expr: `sum by (topic) (rate(${P}produce_errors_total{${sel}}[$__rate_interval]))`, legend: 'errors {{topic}}' },
    { expr: `sum(rate(${P}produce_retries_total{${sel}}[$__rate_interval]))`, legend: 'retries' },
    { expr: `sum(rate(${P}consumer_lag_scrape_errors_total{${sel}}[$__rate_interval]))`, legend: 'lag read errors' },
    { expr: `sum by (by) (rate(${P}consumer_restarts_total{${sel}}[$__rate_interval]))`, legend: 'consumer restarts by {{by}}' },
  ]),
);

row('Models');
line(
  8,
  {
    w: 8,
    type: 'table',
    title: 'Serving bundles',
    description: 'Per replica: primary, canary (value = share in percent) and shadow bundles.',
    targets: [{ datasource: ds, expr: `${P}model_info{${sel}}`, format: 'table', instant: true, refId: 'A' }],
    transformations: [{ id: 'organize', options: { excludeByName: { Time: true, __name__: true, job: true }, renameByName: { Value: 'share' } } }],
  },
  timeseries(8, 'Scored by version (A/B)', 'ops', 'Events scored per bundle version; a canary shows as a second line.', [
    { expr: `sum by (bundle, version) (rate(${P}events_scored_total{${sel}}[$__rate_interval]))`, legend: '{{bundle}} {{version}}' },
  ]),
  timeseries(8, 'Reloads and shadow', 'short', 'Reloads by result, and the shadow bundle\'s disagreement rate.', [
    { expr: `sum by (result) (increase(${P}model_reloads_total{${sel}}[$__rate_interval]))`, legend: 'reload {{result}}' },
    { expr: `sum(rate(${P}shadow_decision_disagreements_total{${sel}}[$__rate_interval])) / sum(rate(${P}shadow_events_total{${sel}}[$__rate_interval]))`, legend: 'shadow disagreement share' },
  ]),
);
line(
  8,
  timeseries(8, 'Predicted profit % (drift)', 'percent', 'Quantiles of the profit model output over time.', quantiles('prediction_value', '', 'output="profit_percent"', (q) => `p${Number(q) * 100}`, ['0.1', '0.5', '0.9'])),
  timeseries(8, 'Success probability (drift)', 'percentunit', 'Quantiles of the success model output over time.', quantiles('prediction_value', '', 'output="success_probability"', (q) => `p${Number(q) * 100}`, ['0.1', '0.5', '0.9'])),
  timeseries(8, 'Hold duration hours (drift)', 'h', 'Quantiles of the duration model output over time.', quantiles('prediction_value', '', 'output="duration_hours"', (q) => `p${Number(q) * 100}`, ['0.1', '0.5', '0.9'])),
);

row('HTTP');
line(
  8,
  timeseries(12, 'Requests by route and status', 'reqps', '/predict and /predict/batch are the synchronous fallback.', [
    { expr: `sum by (route, status) (rate(${P}http_requests_total{${sel}}[$__rate_interval]))`, legend: '{{route}} {{status}}' },
  ]),
  timeseries(12, 'Latency p99 by route', 's', 'Alert threshold for /predict*: 50 ms.', quantiles('http_request_duration_seconds', 'route', '', () => '{{route}}', ['0.99'])),
);

row('Process');
line(
  8,
  timeseries(8, 'Event-loop lag p99', 's', 'Node.js event-loop delay; above ~50 ms the worker misses heartbeats and HTTP slows.', [
    { expr: `max by (instance) (${P}nodejs_eventloop_lag_p99_seconds{${sel}})`, legend: '{{instance}}' },
  ]),
  timeseries(8, 'Resident memory', 'bytes', 'RSS per replica (V8 heap + onnxruntime + Kafka buffers).', [
    { expr: `${P}process_resident_memory_bytes{${sel}}`, legend: '{{instance}}' },
  ]),
  timeseries(8, 'CPU', 'percentunit', 'Cores used per replica.', [
    { expr: `rate(${P}process_cpu_seconds_total{${sel}}[$__rate_interval])`, legend: '{{instance}}' },
  ]),
);

// The outcome monitor (job opportunity-scorer-monitor): its replicas report the same live figures, hence max.
const ver = 'version=~"$version"';
row('Outcome join');
line(
  8,
  timeseries(8, 'Joined pairs and outcomes', 'ops', 'Records the join applied per second by side, and pairs completed.', [
    { expr: `sum by (side) (rate(${P}monitor_records_total{result="applied"}[$__rate_interval]))`, legend: '{{side}} applied' },
    { expr: `sum(rate(${P}monitor_pairs_total[$__rate_interval]))`, legend: 'pairs' },
  ]),
  timeseries(8, 'Unmatched and waiting outcomes', 'short', 'Outcomes without a prediction (by reason) and those still waiting, over the partitions of every replica.', [
    { expr: `sum by (reason) (${P}monitor_outcomes_unmatched)`, legend: '{{reason}}' },
    { expr: `sum(${P}monitor_outcomes_waiting)`, legend: 'waiting' },
  ]),
  timeseries(8, 'Join store', 'bytes', 'Store file size per replica (predictions kept for OUTCOME_WINDOW_MS).', [
    { expr: `${P}monitor_store_bytes`, legend: '{{instance}}' },
  ]),
);
row('Live performance $version', 'version');
line(
  4,
  stat(4, 'Pairs in window', 'short', 'Joined pairs the figures of this version cover.', `max(${P}live_pairs{${ver}})`),
  stat(4, 'ROC-AUC', 'none', 'Success probability against realised success.', `max(${P}live_roc_auc{${ver}})`),
  stat(4, 'Heuristic ROC-AUC', 'none', 'Ranking the same trades by the funding differential: the model must beat this.', `max(${P}live_heuristic_roc_auc{${ver}})`),
  stat(4, 'Calibration error', 'none', "Live ECE; the card's walk-forward value is beside it.", `max(${P}live_calibration_error{${ver}})`, [[null, 'green'], [0.05, 'orange'], [0.1, 'red']]),
  stat(4, 'Card calibration error', 'none', "The model card's walk-forward calibration error.", `max(${P}card_calibration_error{${ver}})`),
  stat(4, 'Realised profit of take %', 'percent', 'Mean realised profit of the trades the bundle said to take.', `max(${P}live_take_realised_profit_percent{${ver}})`),
);
line(
  8,
  timeseries(8, 'Ranking: model vs heuristic', 'none', 'Live ROC-AUC and precision at the top decile, beside the funding-differential ranking and the card.', [
    { expr: `max(${P}live_roc_auc{${ver}})`, legend: 'model ROC-AUC' },
    { expr: `max(${P}live_heuristic_roc_auc{${ver}})`, legend: 'heuristic ROC-AUC' },
    { expr: `max(${P}card_roc_auc{${ver}})`, legend: 'card ROC-AUC' },
    { expr: `max(${P}live_precision_at_top_decile{${ver}})`, legend: 'model precision@10%' },
    { expr: `max(${P}live_heuristic_precision_at_top_decile{${ver}})`, legend: 'heuristic precision@10%' },
  ]),
  timeseries(8, 'Probability quality', 'none', 'Brier score, log loss and calibration error (live and card).', [
    { expr: `max(${P}live_brier_score{${ver}})`, legend: 'Brier' },
    { expr: `max(${P}live_log_loss{${ver}})`, legend: 'log loss' },
    { expr: `max(${P}live_calibration_error{${ver}})`, legend: 'calibration error' },
    { expr: `max(${P}card_calibration_error{${ver}})`, legend: 'card calibration error' },
  ]),
  {
    w: 8,
    type: 'table',
    title: 'Reliability (10 equal-count bins)',
    description: 'Mean predicted probability and realised success rate per bin; a calibrated model has them equal.',
    targets: [
      { datasource: ds, expr: `max by (bin) (${P}live_reliability_mean_predicted{${ver}})`, format: 'table', instant: true, refId: 'A' },
      { datasource: ds, expr: `max by (bin) (${P}live_reliability_observed_rate{${ver}})`, format: 'table', instant: true, refId: 'B' },
    ],
    transformations: [{ id: 'merge', options: {} }, { id: 'organize', options: { excludeByName: { Time: true }, renameByName: { 'Value #A': 'mean predicted', 'Value #B': 'realised rate' } } }],
  },
);
line(
  8,
  timeseries(12, 'Errors of the regressions', 'none', 'Mean absolute error of predicted profit (%) and hold (h) against what was realised.', [
    { expr: `max(${P}live_profit_mae_percent{${ver}})`, legend: 'profit MAE %' },
    { expr: `max(${P}live_duration_mae_hours{${ver}})`, legend: 'duration MAE h' },
  ]),
  timeseries(12, 'Take decisions', 'short', 'Pairs whose prediction said take, and their mean realised profit (%).', [
    { expr: `max(${P}live_take_pairs{${ver}})`, legend: 'take pairs' },
    { expr: `max(${P}live_take_realised_profit_percent{${ver}})`, legend: 'mean realised profit %' },
  ]),
);

const dashboard = {
  uid: 'opportunity-scorer',
  title: 'Opportunity scorer',
  description: 'Throughput, latency, lag, dead letters, models and HTTP of the opportunity-scorer service, and live performance per model version from the outcome monitor. Generated by scripts/deploy/grafana-dashboard.ts.',
  tags: ['opportunity-scorer', 'kafka', 'ml'],
  timezone: 'utc',
  editable: true,
  refresh: '10s',
  schemaVersion: 39,
  version: 1,
  time: { from: 'now-1h', to: 'now' },
  annotations: { list: [] },
  templating: {
    list: [
      { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
      {
        name: 'instance',
        label: 'Instance',
        type: 'query',
        datasource: ds,
        query: { query: `label_values(${P}events_consumed_total, instance)`, refId: 'instance' },
        definition: `label_values(${P}events_consumed_total, instance)`,
        includeAll: true,
        multi: true,
        allValue: '.*',
        current: { text: 'All', value: '$__all' },
        refresh: 2,
      },
      {
        name: 'version',
        label: 'Model version',
        type: 'query',
        datasource: ds,
        query: { query: `label_values(${P}live_pairs, version)`, refId: 'version' },
        definition: `label_values(${P}live_pairs, version)`,
        includeAll: true,
        multi: true,
        current: { text: 'All', value: '$__all' },
        refresh: 2,
      },
    ],
  },
  panels,
};

writeFileSync(new URL('../../deploy/grafana/opportunity-scorer.json', import.meta.url), `${JSON.stringify(dashboard, null, 2)}\n`);
process.stdout.write(`deploy/grafana/opportunity-scorer.json updated (${panels.length} panels)\n`);
