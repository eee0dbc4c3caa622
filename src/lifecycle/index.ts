export { Lifecycle, type LifecycleListener, type LifecycleState, type LifecycleView } from './lifecycle.js';
