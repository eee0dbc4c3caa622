import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../../src/errors.js';
import { FEATURE_COUNT, writeFeatures } from '../../../src/features/index.js';
import { MODEL_NAMES, ModelBundle, compareRows, decodeFloat32, readRowsFile } from '../../../src/inference/index.js';
import * as fixtures from '../../fixtures/opportunities.js';

// The committed bundle and its parity fixture: real ONNX models in onnxruntime-node against xgboost's own outputs.
const BUNDLE_DIR = fileURLToPath(new URL('../../../models/opportunity-scorer/1.0.0', import.meta.url));
const PARITY = fileURLToPath(new URL('../../fixtures/parity/opportunity-scorer-1.0.0.json', import.meta.url));

describe('the committed model bundle', () => {
  let bundle: ModelBundle;
  beforeAll(async () => {
    bundle = await ModelBundle.load(BUNDLE_DIR);
  });
  afterAll(async () => {
    await bundle.close();
  });

  it('reproduces xgboost on ≥ 2,000 held-out rows within 1e-5 on every output', async () => {
    const fixture = await readRowsFile(PARITY);
    expect(fixture.rows).toBeGreaterThanOrEqual(2000);
    const report = await compareRows(bundle, fixture);
    for (const name of MODEL_NAMES) expect(report.maxAbsDiff[name], name).toBeLessThanOrEqual(1e-5);
  });

  it('passes its own self-check', async () => {
    const report = await bundle.selfCheck();
    expect(report.rows).toBeGreaterThanOrEqual(100);
  });

  it('scores events in label units: a probability, hours ≥ 0, batch results equal single results', async () => {
    const events = Object.values(fixtures);
    const rows = new Float32Array(events.length * FEATURE_COUNT);
    events.forEach((e, i) => writeFeatures(e, rows, i * FEATURE_COUNT));
    const batch = await bundle.predict(rows, events.length);
    for (let i = 0; i < events.length; i++) {
      expect(batch.success[i]).toBeGreaterThanOrEqual(0);
      expect(batch.success[i]).toBeLessThanOrEqual(1);
      expect(batch.duration[i]).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(batch.profit[i])).toBe(true);
      const single = await bundle.predict(rows.subarray(i * FEATURE_COUNT), 1);
      expect([single.profit[0], single.success[0], single.duration[0]]).toEqual([batch.profit[i], batch.success[i], batch.duration[i]]);
    }
  });
});

describe('loading a bad bundle', () => {
  const copy = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
    cpSync(BUNDLE_DIR, dir, { recursive: true });
    return dir;
  };

  it('refuses a bundle trained with another feature spec, naming both hashes', async () => {
    const dir = copy();
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { features: { hash: string } };
    manifest.features.hash = 'f'.repeat(64);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const failure = await ModelBundle.load(dir).catch((err: unknown) => err);
    expect(hasCode(failure, 'MODEL_FEATURE_MISMATCH')).toBe(true);
    expect(String(failure)).toContain('f'.repeat(64));
  });

  it('refuses a corrupt model file', async () => {
    const dir = copy();
    const onnx = readFileSync(join(dir, 'success.onnx'));
    onnx.writeUInt8((onnx.readUInt8(onnx.length - 10) ^ 0xff) & 0xff, onnx.length - 10);
    writeFileSync(join(dir, 'success.onnx'), onnx);
    const failure = await ModelBundle.load(dir).catch((err: unknown) => err);
    expect(hasCode(failure, 'MODEL_LOAD_FAILED')).toBe(true);
    expect(String(failure)).toContain('corrupt');
  });

  it('refuses a missing or invalid manifest', async () => {
    expect(hasCode(await ModelBundle.load(tmpdir()).catch((e: unknown) => e), 'MODEL_LOAD_FAILED')).toBe(true);
    const dir = copy();
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ format: 'something-else' }));
    expect(hasCode(await ModelBundle.load(dir).catch((e: unknown) => e), 'MODEL_LOAD_FAILED')).toBe(true);
  });

  it('fails the self-check when expected outputs do not match', async () => {
    const dir = copy();
    const check = JSON.parse(readFileSync(join(dir, 'self-check.json'), 'utf8')) as { expected: { profit: string } };
    const shifted = decodeFloat32(check.expected.profit).map((v) => v + 0.01);
    check.expected.profit = Buffer.from(shifted.buffer).toString('base64');
    writeFileSync(join(dir, 'self-check.json'), JSON.stringify(check));
    const bundle = await ModelBundle.load(dir);
    try {
      const failure = await bundle.selfCheck().catch((e: unknown) => e);
      expect(hasCode(failure, 'MODEL_SELF_CHECK_FAILED')).toBe(true);
      // Shifted by 0.01 exactly: the reported difference is the shift, not noise.
      expect(String(failure)).toMatch(/profit differs from its expected output by 0\.0099|profit differs from its expected output by 0\.01/);
    } finally {
      await bundle.close();
    }
  });
});
