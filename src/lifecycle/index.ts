export { Lifecycle, type LifecycleListener, type LifecycleState, type LifecycleView } from './lifecycle.js';
export { type Step, runSteps } from './steps.js';
