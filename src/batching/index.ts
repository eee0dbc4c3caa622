export { MicroBatcher, type MicroBatcherObserver, type MicroBatcherOptions } from './micro-batcher.js';
