import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, renderMetricsDoc } from '../../../src/metrics/index.js';

describe('metrics', () => {
  it('matches docs/metrics.md (run `npm run docs:metrics` after changing them)', () => {
    expect(readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8')).toBe(renderMetricsDoc());
  });

  it('follows Prometheus naming: counters end in _total, durations are in seconds', () => {
    const metrics = createMetrics(new Registry(), { defaultMetrics: false });
    for (const m of metrics.registry.getMetricsAsArray()) {
      const { name, type } = m as unknown as { name: string; type: string };
      // One exception, by name: the histogram of the model server this replaces (004), unprefixed for its dashboards.
      if (name !== 'inference_latency_seconds') expect(name).toMatch(/^opportunity_scorer_[a-z_]+$/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      if (/duration|wait|age/.test(name)) expect(name).toMatch(/_seconds$/);
    }
  });

  it('reads consumer lag when scraped, and counts a failed read instead of failing the scrape', async () => {
    const metrics = createMetrics(new Registry(), { defaultMetrics: false });
    let lag = 5;
    metrics.setLagSource(() => Promise.resolve([{ topic: 'in', partition: 0, lag: lag++ }]));
    expect(await metrics.registry.getSingleMetricAsString('opportunity_scorer_consumer_lag_records')).toContain('opportunity_scorer_consumer_lag_records{topic="in",partition="0"} 5');
    expect(await metrics.registry.getSingleMetricAsString('opportunity_scorer_consumer_lag_records')).toContain('partition="0"} 6');
    metrics.setLagSource(() => Promise.reject(new Error('broker down')));
    expect(await metrics.registry.metrics()).not.toContain('opportunity_scorer_consumer_lag_records{');
    // Metrics are read side by side, so a scrape shows the errors of the scrapes before it.
    expect(await metrics.registry.metrics()).toContain('opportunity_scorer_consumer_lag_scrape_errors_total 1');
  });
});
