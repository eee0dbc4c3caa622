export { createKafkaPort } from './client.js';
export type {
  Assignment,
  FetchedBatch,
  GroupConsumer,
  GroupConsumerOptions,
  GroupEvents,
  KafkaAdmin,
  KafkaClientName,
  KafkaPort,
  KafkaProducer,
  OutMessage,
  PartitionOffsets,
  TailReader,
  TopicSpec,
  TransactionalProducer,
  TransactionOffsets,
} from './port.js';
export { ensureTopics, requireTopics } from './topics.js';
