export {
  loadConfig,
  redactedConfig,
  type AppConfig,
  type KafkaConfig,
  type SaslConfig,
  type LogLevel,
  type ConfigProblem,
  type ConfigSources,
} from './config.js';
export { configKeys, type ConfigKey, type ConfigKeyName } from './keys.js';
export { renderConfigTable } from './table.js';
