import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { componentLogger, createLogger } from '../../../src/logging/index.js';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('logger', () => {
  it('writes JSON lines with level label, time and component', () => {
    const out = capture();
    const logger = componentLogger(createLogger({ level: 'info', pretty: false, destination: out.stream }), 'ingest');
    logger.info({ partition: 3 }, 'fetched');
    logger.debug('hidden below the level');
    const [line, ...rest] = out.lines();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ level: 'info', component: 'ingest', service: 'opportunity-scorer', partition: 3, msg: 'fetched' });
    expect(typeof line?.time).toBe('string');
  });

  it('never writes secrets, at any usual depth', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', pretty: false, destination: out.stream });
    logger.info(
      {
        password: 'p0',
        sasl: { mechanism: 'plain', username: 'svc', password: 'p1' },
        config: { kafka: { sasl: { password: 'p2' } }, admin: { token: 't1' } },
        req: { headers: { authorization: 'Bearer t2' } },
        adminToken: 't3',
      },
      'start',
    );
    const text = JSON.stringify(out.lines());
    for (const secret of ['p0', 'p1', 'p2', 't1', 't2', 't3']) expect(text).not.toContain(`"${secret}"`);
    expect(text).not.toContain('Bearer');
    expect(text).toContain('"username":"svc"');
    expect(text).toContain('[redacted]');
  });

  it('serialises errors with their cause chain', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', pretty: false, destination: out.stream });
    logger.error({ err: new Error('outer', { cause: new Error('root cause') }) }, 'failed');
    expect(JSON.stringify(out.lines()[0])).toContain('root cause');
  });
});
