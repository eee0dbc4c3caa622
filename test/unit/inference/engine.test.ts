import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_COUNT, writeFeatures } from '../../../src/features/index.js';
import { ModelBundle, ScoreRequest, ScoringEngine } from '../../../src/inference/index.js';
import * as fixtures from '../../fixtures/opportunities.js';

const dir = (v: string): string => fileURLToPath(new URL(`../../../models/opportunity-scorer/${v}`, import.meta.url));

describe('the scoring engine: feature rows and pinned bundles through the one batcher', () => {
  let primary: ModelBundle;
  let other: ModelBundle;
  beforeAll(async () => {
    [primary, other] = await Promise.all([ModelBundle.load(dir('2.0.0')), ModelBundle.load(dir('1.1.0'))]);
  });
  afterAll(async () => {
    await Promise.all([primary.close(), other.close()]);
  });

  it('scores a feature row exactly as the opportunity it came from, and pins rows to the bundle asked for', async () => {
    const engine = new ScoringEngine({ primary, canary: { bundle: other, percent: 50 } }, { maxSize: 64, maxDelayMs: 1, queueMax: 1000 });
    const ops = Object.values(fixtures);
    const rows = new Float32Array(ops.length * FEATURE_COUNT);
    ops.forEach((op, i) => writeFeatures(op, rows, i * FEATURE_COUNT));
    const plain = await engine.score(ops);
    const mixed = await engine.score([
      ...ops.map((_, i) => ScoreRequest.ofFeatures(rows.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT))),
      ...ops.map((op) => ScoreRequest.ofOpportunity(op, other)),
      ...ops,
    ]);
    const n = ops.length;
    for (let i = 0; i < n; i++) {
      const [byRow, pinned, routed, original] = [mixed[i], mixed[n + i], mixed[2 * n + i], plain[i]];
      // An unpinned feature row has no id to route by: the primary scores it.
      expect(byRow?.ok && byRow.model.version).toBe('2.0.0');
      expect(pinned?.ok && pinned.model.version).toBe('1.1.0');
      // Plain opportunities keep their sticky A/B arm.
      expect(routed?.ok && routed.model.version).toBe(original?.ok && original.model.version);
      if (byRow?.ok && original?.ok && original.model.version === '2.0.0') expect(byRow.scores).toEqual(original.scores);
    }
    await engine.close();
  });

  it('refuses a feature row of the wrong length', () => {
    expect(() => ScoreRequest.ofFeatures(new Float32Array(56))).toThrow(/57 values, got 56/);
  });
});
