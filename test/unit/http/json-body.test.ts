import { describe, expect, it } from 'vitest';
import { parseJsonBody } from '../../../src/http/index.js';

describe('parseJsonBody', () => {
  it('drops __proto__ and constructor keys, also when spelled with \\u escapes', () => {
    for (const text of ['{"__proto__": {"polluted": 1}, "a": 1}', '{"\\u005f\\u005fproto__": {"polluted": 1}, "a": 1}', '{"constructor": {"prototype": {"polluted": 1}}, "a": 1}', '{"\\u0063onstructor": {"prototype": {"polluted": 1}}, "a": 1}']) {
      const parsed = parseJsonBody(text, 32) as Record<string, unknown>;
      expect(Object.keys(parsed)).toEqual(['a']);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  it('parses an ordinary body without the reviver, to the same value', () => {
    const text = JSON.stringify({ inputs: [{ name: 'input', data: Array.from({ length: 57 }, (_, i) => i / 7) }], nested: { ok: [true, null] } });
    expect(parseJsonBody(text, 32)).toEqual(JSON.parse(text));
  });
});
