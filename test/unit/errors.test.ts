import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ScorerError, errorCodes, findScorerError, hasCode, isRetriable } from '../../src/errors.js';

describe('errors', () => {
  it('documents every code in docs/errors.md, and nothing else', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \| (yes|no) \|/gm)].map((m) => [m[1], m[2]]);
    const expected = Object.entries(errorCodes).map(([code, { retriable }]) => [code, retriable ? 'yes' : 'no']);
    expect(documented.sort()).toEqual(expected.sort());
  });

  it('keeps the cause and the retriable default of its code', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new ScorerError('KAFKA_UNAVAILABLE', 'no broker', { cause });
    expect(err.cause).toBe(cause);
    expect(err.retriable).toBe(true);
    expect(new ScorerError('CONFIG_INVALID', 'bad').retriable).toBe(false);
    expect(new ScorerError('KAFKA_UNAVAILABLE', 'auth', { retriable: false }).retriable).toBe(false);
  });

  it('finds a coded error through a cause chain, without looking at messages', () => {
    const inner = new ScorerError('KAFKA_TOPIC_MISSING', 'missing');
    const outer = new Error('start-up failed', { cause: new Error('wrapped', { cause: inner }) });
    expect(findScorerError(outer)).toBe(inner);
    expect(hasCode(outer, 'KAFKA_TOPIC_MISSING')).toBe(true);
    expect(hasCode(outer, 'CONFIG_INVALID')).toBe(false);
    expect(isRetriable(outer)).toBe(false);
    expect(isRetriable(new Error('KAFKA_UNAVAILABLE'))).toBe(false);
  });

  it('survives a cyclic cause chain', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(findScorerError(a)).toBeUndefined();
  });
});
