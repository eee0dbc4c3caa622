export { type Metrics, type Stage, createMetrics } from './metrics.js';
