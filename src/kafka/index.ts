export { createKafka } from './client.js';
export { ensureTopics, requireTopics, type TopicSpec } from './topics.js';
