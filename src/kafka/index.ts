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
export { MAX_SEND_BYTES, recordBytes } from './sized.js';
export { ensureTopics, requireTopics } from './topics.js';
