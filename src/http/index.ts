export { type HttpAppOptions, type HttpLimits, type LoadedModel, type Readiness, buildHttpApp } from './app.js';
export { jsonDepthExceeds, parseJsonBody } from './json-body.js';
export { type MonitorHttpOptions, buildMonitorApp } from './monitor.js';
