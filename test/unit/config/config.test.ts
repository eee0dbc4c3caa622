import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ConfigProblem, loadConfig, redactedConfig } from '../../../src/config/index.js';
import { ScorerError } from '../../../src/errors.js';

function problemsOf(env: Record<string, string>, file?: string): ConfigProblem[] {
  try {
    loadConfig({ env, file });
  } catch (err) {
    expect(err).toBeInstanceOf(ScorerError);
    const scorerError = err as ScorerError;
    expect(scorerError.code).toBe('CONFIG_INVALID');
    return scorerError.details.problems as ConfigProblem[];
  }
  throw new Error('expected the configuration to be rejected');
}

function tempFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'config.json');
  writeFileSync(path, content);
  return path;
}

describe('loadConfig', () => {
  it('builds a valid, unit-normalised config from defaults alone', () => {
    const config = loadConfig({ env: {} });
    expect(config.batch).toEqual({ maxSize: 256, maxDelayMs: 0, queueMax: 8192 });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.kafka.ssl).toBe(false);
    expect(config.kafka.sasl).toBeUndefined();
    expect(config.delivery).toBe('at-least-once');
    expect(config.shutdownGraceMs).toBe(30_000);
  });

  it('is deeply frozen', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.batch)).toBe(true);
    expect(Object.isFrozen(config.kafka.brokers)).toBe(true);
  });

  it('parses environment values and ignores unrelated variables', () => {
    const config = loadConfig({
      env: {
        KAFKA_BROKERS: 'a:9092, b:9093',
        INPUT_TOPICS: 'in-1,in-2',
        BATCH_MAX_DELAY_MS: '2',
        KAFKA_SSL: 'TRUE',
        PATH: '/usr/bin',
      },
    });
    expect(config.kafka.brokers).toEqual(['a:9092', 'b:9093']);
    expect(config.topics.input).toEqual(['in-1', 'in-2']);
    expect(config.batch.maxDelayMs).toBe(2);
    expect(config.kafka.ssl).toEqual({ caFile: undefined, rejectUnauthorized: true });
  });

  it('lists every bad key with the value seen and what is allowed', () => {
    const problems = problemsOf({ BATCH_MAX_DELAY_MS: '-1', LOG_LEVEL: 'loud', HTTP_PORT: 'eighty', KAFKA_BROKERS: 'nohost' });
    expect(problems.map((p) => p.key).sort()).toEqual(['BATCH_MAX_DELAY_MS', 'HTTP_PORT', 'KAFKA_BROKERS', 'LOG_LEVEL']);
    const delay = problems.find((p) => p.key === 'BATCH_MAX_DELAY_MS');
    expect(delay).toMatchObject({ value: '-1', message: 'must be ≥ 0', allowed: 'integer milliseconds, 0–60000' });
    expect(problems.find((p) => p.key === 'LOG_LEVEL')?.allowed).toContain('debug');
  });

  it('puts every problem in the error message', () => {
    expect(() => loadConfig({ env: { BATCH_MAX_DELAY_MS: '-1', LOG_LEVEL: 'loud' } })).toThrowError(
      /2 problems\):\n.*LOG_LEVEL="loud".*\n.*BATCH_MAX_DELAY_MS="-1": must be ≥ 0/,
    );
  });

  it('checks rules across keys even when another key is bad', () => {
    const problems = problemsOf({ LOG_LEVEL: 'x', KAFKA_SASL_MECHANISM: 'scram-sha-256', INPUT_TOPICS: 'a', OUTPUT_TOPIC: 'a' });
    expect(problems.map((p) => p.key).sort()).toEqual(['KAFKA_SASL_PASSWORD', 'KAFKA_SASL_USERNAME', 'LOG_LEVEL', 'OUTPUT_TOPIC']);
  });

  it('requires a schema registry for confluent-avro', () => {
    expect(problemsOf({ OUTPUT_CODEC: 'confluent-avro' }).map((p) => p.key)).toEqual(['SCHEMA_REGISTRY_URL']);
    expect(loadConfig({ env: { OUTPUT_CODEC: 'confluent-avro', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081' } }).codec.output).toBe(
      'confluent-avro',
    );
  });

  it('never shows a secret value in problems', () => {
    const problems = problemsOf({ KAFKA_SASL_PASSWORD: 'hunter2' });
    expect(JSON.stringify(problems)).not.toContain('hunter2');
  });

  it('redacts secrets when printing the config', () => {
    const config = loadConfig({
      env: { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'hunter2' },
    });
    expect(config.kafka.sasl?.password).toBe('hunter2');
    expect(JSON.stringify(redactedConfig(config))).not.toContain('hunter2');
  });

  it('reads a JSON config file, and the environment overrides it', () => {
    const file = tempFile(JSON.stringify({ BATCH_MAX_SIZE: 512, LOG_LEVEL: 'debug', INPUT_TOPICS: ['x', 'y'] }));
    const config = loadConfig({ env: { LOG_LEVEL: 'warn' }, file });
    expect(config.batch.maxSize).toBe(512);
    expect(config.log.level).toBe('warn');
    expect(config.topics.input).toEqual(['x', 'y']);
  });

  it('rejects unknown keys in the config file, suggesting the right one', () => {
    const problems = problemsOf({}, tempFile(JSON.stringify({ batch_max_size: 10, NOPE: 1 })));
    expect(problems.map((p) => p.key).sort()).toEqual(['NOPE', 'batch_max_size']);
    expect(problems.find((p) => p.key === 'batch_max_size')?.message).toContain('did you mean BATCH_MAX_SIZE?');
  });

  it('reports a config file that is not JSON', () => {
    expect(problemsOf({}, tempFile('{ not json')).map((p) => p.key)).toEqual(['CONFIG_FILE']);
  });
});
