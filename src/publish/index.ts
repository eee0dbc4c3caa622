export { createPublisher, type Delivery, type Publisher, type PublisherOptions } from './publisher.js';
export { SendQueue } from './send-queue.js';
export { TransactionalProducers } from './transactional.js';
