import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesHistogram } from '../../../src/metrics/index.js';

const BUCKETS = [-1, -0.5, 0, 0.05, 0.5, 1, 24];
// Nothing above the top bound here: see the last test but one.
const VALUES = [-3, -1, -0.7, 0, 0, 0.01, 0.05, 0.051, 0.5, 1, 1.5, 12, 24, -0.2];

function pair(): { ours: SeriesHistogram<'output'>; theirs: Histogram<'output'>; mine: Registry; reference: Registry } {
  const mine = new Registry();
  const reference = new Registry();
  const config = { name: 'h_value', help: 'A histogram.', labelNames: ['output'] as const, buckets: BUCKETS };
  return { ours: new SeriesHistogram({ ...config, registers: [mine] }), theirs: new Histogram({ ...config, labelNames: ['output'], registers: [reference] }), mine, reference };
}

describe('SeriesHistogram', () => {
  it('exports what a prom-client Histogram with the same values exports, as text and as JSON', async () => {
    const { ours, theirs, mine, reference } = pair();
    const [a, b] = [ours.labels({ output: 'a' }), ours.labels({ output: 'b' })];
    VALUES.forEach((v, i) => {
      a.observe(v);
      theirs.observe({ output: 'a' }, v);
      if (i % 3 === 0) {
        b.observe(v / 2);
        theirs.observe({ output: 'b' }, v / 2);
      }
    });
    expect(await mine.metrics()).toBe(await reference.metrics());
    // prom-client adds `exemplar: null` to each bucket (exemplars are off); the rest is the same JSON.
    const withoutExemplars = (await reference.getMetricsAsJSON()).map((m) => ({ ...m, values: m.values.map(({ labels, value, metricName }: { labels: object; value: number; metricName?: string }) => ({ labels, value, metricName })) }));
    expect(await mine.getMetricsAsJSON()).toEqual(withoutExemplars);
    expect(await mine.metrics()).toContain('h_value_bucket{le="0.05",output="a"} 8');
  });

  it('puts a value equal to a bound in that bound, the way Prometheus buckets are upper-inclusive', async () => {
    const { ours, mine } = pair();
    ours.labels({ output: 'x' }).observe(0.5);
    const text = await mine.metrics();
    expect(text).toContain('h_value_bucket{le="0.05",output="x"} 0');
    expect(text).toContain('h_value_bucket{le="0.5",output="x"} 1');
  });

  it('counts a value above every bound in +Inf alone (prom-client 15.1.3 also counts it in a bucket whose bound is -1, as prediction_value has)', async () => {
    const { ours, theirs, mine, reference } = pair();
    ours.labels({ output: 'x' }).observe(500);
    theirs.observe({ output: 'x' }, 500);
    expect(await mine.metrics()).toContain('h_value_bucket{le="-1",output="x"} 0');
    expect(await mine.metrics()).toContain('h_value_bucket{le="24",output="x"} 0');
    expect(await mine.metrics()).toContain('h_value_bucket{le="+Inf",output="x"} 1');
    expect(await reference.metrics()).toContain('h_value_bucket{le="-1",output="x"} 1');
  });

  it('leaves out values that are not finite instead of throwing on the hot path', async () => {
    const { ours, mine } = pair();
    const s = ours.labels({ output: 'x' });
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2]) s.observe(v);
    const text = await mine.metrics();
    expect(text).toContain('h_value_count{output="x"} 1');
    expect(text).toContain('h_value_sum{output="x"} 2');
  });

  it('shares one series per label set, exports it at zero once resolved, and zeroes it on reset', async () => {
    const { ours, mine } = pair();
    const x = ours.labels({ output: 'x' });
    x.observe(1);
    ours.labels({ output: 'x' }).observe(1);
    ours.labels({ output: 'y' });
    let text = await mine.metrics();
    expect(text).toContain('h_value_count{output="x"} 2');
    expect(text).toContain('h_value_count{output="y"} 0');
    mine.resetMetrics();
    x.observe(0.5);
    text = await mine.metrics();
    expect(text).toContain('h_value_bucket{le="0.05",output="x"} 0');
    expect(text).toContain('h_value_count{output="x"} 1');
    expect(text).toContain('h_value_sum{output="x"} 0.5');
  });

  it('refuses buckets that are not finite or repeat', () => {
    expect(() => new SeriesHistogram({ name: 'h', help: 'h', labelNames: [], buckets: [1, 1], registers: [] })).toThrow(/distinct/);
    expect(() => new SeriesHistogram({ name: 'h', help: 'h', labelNames: [], buckets: [1, Number.POSITIVE_INFINITY], registers: [] })).toThrow(/finite/);
  });
});
