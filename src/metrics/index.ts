export { type HistogramSeries, SeriesHistogram } from './histogram.js';
export { type LagSource, type Metrics, type PartitionLag, type Stage, createMetrics } from './metrics.js';
export { renderMetricsDoc } from './doc.js';
export { engineMetrics, modelManagerMetrics } from './adapters.js';
export { type LiveGaugeFigures, type MonitorMetrics, type MonitorSources, createMonitorMetrics } from './monitor.js';
