import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../../../src/lifecycle/index.js';
import { createLogger } from '../../../src/logging/index.js';

describe('Lifecycle', () => {
  it('walks starting → running → draining → stopped and tells listeners each step', () => {
    const lifecycle = new Lifecycle();
    const seen: string[] = [];
    lifecycle.view.onChange((state) => seen.push(state));
    lifecycle.to('running');
    lifecycle.to('draining');
    lifecycle.to('stopped');
    expect(seen).toEqual(['running', 'draining', 'stopped']);
    expect(lifecycle.view.state).toBe('stopped');
    expect(lifecycle.view.failure).toBeUndefined();
  });

  it('keeps a failure through the drain that follows: failed → draining ends failed, never stopped', () => {
    const lifecycle = new Lifecycle();
    lifecycle.to('running');
    lifecycle.to('failed', 'consumer crashed');
    lifecycle.to('draining');
    lifecycle.to('stopped');
    expect(lifecycle.state).toBe('failed');
    expect(lifecycle.view.failure).toBe('consumer crashed');
  });

  it('throws INTERNAL on an illegal transition (a bug)', () => {
    const lifecycle = new Lifecycle();
    lifecycle.to('running');
    lifecycle.to('draining');
    lifecycle.to('stopped');
    expect(() => lifecycle.to('running')).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });

  it('logs every transition with from, to and reason', () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', pretty: false, destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } });
    const lifecycle = new Lifecycle(logger);
    lifecycle.to('running');
    lifecycle.to('failed', 'boom');
    expect(lines.map((l) => [l.from, l.to, l.reason, l.level])).toEqual([
      ['starting', 'running', undefined, 'info'],
      ['running', 'failed', 'boom', 'error'],
    ]);
  });

  it('gives others a read-only view', () => {
    const view = new Lifecycle().view;
    expect('to' in view).toBe(false);
    expect(Object.isFrozen(view)).toBe(true);
  });
});
