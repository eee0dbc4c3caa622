export { Lifecycle, type LifecycleListener, type LifecycleState, type LifecycleView } from './lifecycle.js';
export { INTERRUPTED_EXIT_CODE, type ShutdownOptions, ShutdownSignals, type SignalSource } from './signals.js';
export { type Step, runSteps } from './steps.js';
export { startThread } from './threads.js';
