import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FEATURES, FEATURE_COUNT, FEATURE_HASH, FEATURE_NAMES, OPTIONAL_INPUT_FEATURES, renderFeatureDoc } from '../../../src/features/index.js';

describe('the feature spec', () => {
  it('has 40–60 uniquely named features', () => {
    expect(FEATURE_COUNT).toBeGreaterThanOrEqual(40);
    expect(FEATURE_COUNT).toBeLessThanOrEqual(60);
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_COUNT);
  });

  it('documents a unit and a formula for every feature', () => {
    for (const f of FEATURES) {
      expect(f.unit, f.name).not.toBe('');
      expect(f.formula, f.name).not.toBe('');
    }
  });

  it('lists only real features as optional-input features', () => {
    for (const name of OPTIONAL_INPUT_FEATURES) expect(FEATURE_NAMES).toContain(name);
  });

  it('has a sha256 hash', () => {
    expect(FEATURE_HASH).toMatch(/^[0-9a-f]{64}$/);
  });

  it('matches docs/features.md (run `npm run docs:features` after changing it)', () => {
    expect(readFileSync(new URL('../../../docs/features.md', import.meta.url), 'utf8')).toBe(renderFeatureDoc());
  });
});
