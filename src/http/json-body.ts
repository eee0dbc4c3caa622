import { ScorerError } from '../errors.js';

/**
 * The deepest nesting of objects and arrays in a JSON text, found by one scan (strings skipped) before it is
 * parsed, so a hostile body cannot exhaust the parser's stack. Stops counting once `limit` is exceeded.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Parses a request body: depth-limited, and `__proto__` / `constructor.prototype` keys dropped (no pollution). */
export function parseJsonBody(text: string, maxDepth: number): unknown {
  if (jsonDepthExceeds(text, maxDepth)) {
    throw new ScorerError('DECODE_FAILED', `JSON nested deeper than ${maxDepth} levels`, { details: { status: 400, type: 'json_too_deep' } });
  }
  // The reviver costs a call per value (most of the parse time of a large numeric tensor); it is only needed when a
  // key could be __proto__ or constructor, spelled out or through a \u escape.
  const hostile = text.includes('__proto__') || text.includes('constructor') || text.includes('\\u');
  try {
    if (!hostile) return JSON.parse(text) as unknown;
    return JSON.parse(text, (key, value: unknown) => (key === '__proto__' || key === 'constructor' ? undefined : value));
  } catch (cause) {
    throw new ScorerError('DECODE_FAILED', `malformed JSON: ${cause instanceof Error ? cause.message : String(cause)}`, { cause, details: { status: 400, type: 'json_invalid' } });
  }
}
