import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createMetrics, createMonitorMetrics } from '../../src/metrics/index.js';
import { run, tool } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RULES = join(ROOT, 'deploy/prometheus');

interface Panel {
  readonly title?: string;
  readonly type: string;
  readonly targets?: Array<{ expr: string }>;
}

/** Every metric name the service exports (with histogram series suffixes) plus Prometheus's own `up`. */
function knownSeries(): Set<string> {
  const names = new Set(['up', 'ALERTS']);
  const monitor = new Registry();
  createMonitorMetrics(monitor, { live: () => [], card: () => undefined, store: () => ({ waiting: 0, unmatched: {}, predictions: 0, bytes: 0 }), lastPairAt: () => undefined });
  for (const m of [...createMetrics(new Registry()).registry.getMetricsAsArray(), ...monitor.getMetricsAsArray()]) {
    const { name, type } = m as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}

describe('alert rules (promtool)', () => {
  it('pass `promtool check rules`', () => {
    const r = run(tool('promtool', 'PROMTOOL_BIN'), ['check', 'rules', 'alerts.yml'], { cwd: RULES });
    expect(r.output).toContain('SUCCESS: 15 rules found');
    expect(r.status).toBe(0);
  });

  it('pass their unit tests (`promtool test rules alerts.test.yml`)', () => {
    const r = run(tool('promtool', 'PROMTOOL_BIN'), ['test', 'rules', 'alerts.test.yml'], { cwd: RULES });
    expect(r.output).toContain('SUCCESS');
    expect(r.status, r.output).toBe(0);
  });

  it('name only metrics the service exports', () => {
    const known = knownSeries();
    const text = readFileSync(join(RULES, 'alerts.yml'), 'utf8');
    for (const name of text.match(/opportunity_scorer_[a-z_]+/g) ?? []) expect(known, name).toContain(name);
  });
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/opportunity-scorer.json'), 'utf8')) as { uid: string; panels: Panel[] };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title ?? '', expr: t.expr })));

  it('covers throughput, latency, lag, event age, DLQ, batch size, models, predictions and HTTP', () => {
    const all = exprs.map((e) => e.expr).join('\n');
    for (const metric of ['events_scored_total', 'stage_duration_seconds', 'consumer_lag_records', 'event_age_seconds', 'events_dead_lettered_total', 'batch_size', 'model_info', 'prediction_value', 'http_request_duration_seconds', 'http_requests_total']) {
      expect(all).toContain(`opportunity_scorer_${metric}`);
    }
    expect(new Set(dashboard.panels.map((p) => p.type))).toEqual(new Set(['row', 'stat', 'timeseries', 'table']));
  });

  it('has only queries that Prometheus parses and that name exported metrics', () => {
    const known = knownSeries();
    for (const { panel, expr } of exprs) {
      for (const name of expr.match(/\b(opportunity_scorer_[a-z0-9_]+|up)\b(?=[{[(\s)]|$)/g) ?? []) expect(known, `${panel}: ${name}`).toContain(name);
    }
    // promtool parses PromQL only inside rule files: each query becomes a recording rule, with Grafana's variables
    // replaced by what they expand to.
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-'));
    try {
      const rules = exprs.map(({ expr }, i) => ({ record: `dashboard:query_${i}`, expr: expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*') }));
      writeFileSync(join(dir, 'queries.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
      const r = run(tool('promtool', 'PROMTOOL_BIN'), ['check', 'rules', 'queries.yml'], { cwd: dir });
      expect(r.output).toContain(`SUCCESS: ${exprs.length} rules found`);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
