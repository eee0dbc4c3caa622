import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../src/config/index.js';
import { createKafka } from '../../../../src/kafka/kafkajs/client.js';
import { createLogger } from '../../../../src/logging/index.js';

/** A kafkajs client whose log lines (through the project's logger, at debug) are read back. */
function loggedKafka(): { kafka: ReturnType<typeof createKafka>; lines: Array<{ level: string; msg: string }> } {
  const lines: Array<{ level: string; msg: string }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: string; msg: string });
      done();
    },
  });
  const config = loadConfig({ env: { KAFKA_BROKERS: '127.0.0.1:1', KAFKA_CLIENT: 'kafkajs' } });
  return { kafka: createKafka(config.kafka, createLogger({ level: 'debug', pretty: false, destination })), lines };
}

describe("kafkajs's log lines, through the project's logger", () => {
  it("a bounded idempotent producer's warning (a choice the port makes on purpose) is an info line once, then debug", () => {
    const { kafka, lines } = loggedKafka();
    for (let i = 0; i < 3; i++) kafka.producer({ idempotent: true, retry: { retries: 5 } });
    const warning = lines.filter((l) => l.msg.startsWith('Limiting retries'));
    expect(warning.map((l) => l.level)).toEqual(['info', 'debug', 'debug']);
  });

  it('a retried request is an info line once per kind; any other error stays an error; other warnings stay warnings', () => {
    const { kafka, lines } = loggedKafka();
    const logger = kafka.logger();
    logger.error('The coordinator is loading', { retryCount: 0 });
    logger.error('The coordinator is loading', { retryCount: 1 });
    logger.error('Crash: something unexpected', {});
    logger.warn('Something else worth a look', {});
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['info', 'The coordinator is loading'],
      ['debug', 'The coordinator is loading'],
      ['error', 'Crash: something unexpected'],
      ['warn', 'Something else worth a look'],
    ]);
  });
});
