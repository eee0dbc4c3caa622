export { SendQueue } from './send-queue.js';
export { TransactionalProducers } from './transactional.js';
