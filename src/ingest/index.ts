export { type Delivery, KafkaWorker, type WorkerOptions, type WorkerReadiness } from './worker.js';
