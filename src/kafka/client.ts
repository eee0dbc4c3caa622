import type { KafkaConfig } from '../config/index.js';
import type { Logger } from '../logging/index.js';
import { createKafka } from './kafkajs/client.js';
import { KafkaJsPort } from './kafkajs/adapter.js';
import { PlatformaticPort } from './platformatic/adapter.js';
import type { KafkaPort } from './port.js';

/** The Kafka port over the client `KAFKA_CLIENT` names. */
export function createKafkaPort(config: KafkaConfig, logger: Logger): KafkaPort {
  return config.client === 'platformatic' ? new PlatformaticPort(config, logger) : new KafkaJsPort(createKafka(config, logger));
}
