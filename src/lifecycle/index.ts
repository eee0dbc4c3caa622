export { Lifecycle, type LifecycleState } from './lifecycle.js';
