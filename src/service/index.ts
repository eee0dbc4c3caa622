export { type ReloadResult, ScorerService, type ServiceMode, type ServiceOptions } from './service.js';
export { MonitorService, type MonitorServiceOptions } from './monitor.js';
