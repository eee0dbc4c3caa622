export { createPublisher, type Delivery, type Publisher } from './publisher.js';
export { SendQueue } from './send-queue.js';
export { TransactionalProducers } from './transactional.js';
