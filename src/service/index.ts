export { type ReloadResult, ScorerService, type ServiceMode, type ServiceOptions, modelSource } from './service.js';
export { INTERRUPTED_EXIT_CODE, type ShutdownOptions, ShutdownSignals, type SignalSource } from './signals.js';
export { MonitorService, type MonitorServiceOptions } from './monitor.js';
