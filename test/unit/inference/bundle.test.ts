import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../../src/errors.js';
import { FEATURE_COUNT, writeFeatures } from '../../../src/features/index.js';
import { DEFAULT_SESSION_SETTINGS, MODEL_NAMES, ModelBundle, compareRows, decodeFloat32, readRowsFile } from '../../../src/inference/index.js';
import * as fixtures from '../../fixtures/opportunities.js';

// The committed bundles and their parity fixtures: real ONNX models in onnxruntime-node against xgboost's own
// outputs, and (2.0.0) the served, calibrated success probability against the Python calibration.
const dirOf = (version: string): string => fileURLToPath(new URL(`../../../models/opportunity-scorer/${version}`, import.meta.url));
const parityOf = (version: string): string => fileURLToPath(new URL(`../../fixtures/parity/opportunity-scorer-${version}.json`, import.meta.url));
const BUNDLE_DIR = dirOf('2.0.0');

describe.each(['1.0.0', '2.0.0'])('parity of the committed bundle %s', (version) => {
  it('reproduces xgboost on ≥ 2,000 rows within 1e-5 on every output, and the calibrated probability where it has one', async () => {
    const bundle = await ModelBundle.load(dirOf(version));
    try {
      const fixture = await readRowsFile(parityOf(version));
      expect(fixture.rows).toBeGreaterThanOrEqual(2000);
      const report = await compareRows(bundle, fixture);
      for (const name of MODEL_NAMES) expect(report.maxAbsDiff[name], name).toBeLessThanOrEqual(1e-5);
      if (bundle.manifest.calibration !== undefined && bundle.manifest.calibration.method !== 'none') {
        expect(report.maxAbsDiff.successCalibrated).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      await bundle.close();
    }
  });
});

describe('the production bundle (2.0.0)', () => {
  let bundle: ModelBundle;
  beforeAll(async () => {
    bundle = await ModelBundle.load(BUNDLE_DIR);
  });
  afterAll(async () => {
    await bundle.close();
  });

  it('carries a calibration and a decision, and serves the calibrated probability', async () => {
    expect(bundle.manifest.calibration?.method).toBeDefined();
    expect(bundle.manifest.decision?.feeModel.takerFeePercentPerLegPerSide).toBe(0.05);
    const fixture = await readRowsFile(parityOf('2.0.0'));
    const raw = await bundle.runRaw(decodeFloat32(fixture.features), 10);
    const served = await bundle.predict(decodeFloat32(fixture.features), 10);
    expect(Array.from(served.success)).not.toEqual(Array.from(raw.success));
    // The Python reference calibrated xgboost's own output; onnxruntime's differs by float32 rounding only.
    const reference = decodeFloat32(fixture.expected.successCalibrated ?? '');
    served.success.forEach((v, i) => expect(Math.abs(v - (reference[i] as number))).toBeLessThanOrEqual(1e-6));
  });

  it('passes its own self-check, calibrated output included', async () => {
    const report = await bundle.selfCheck();
    expect(report.rows).toBeGreaterThanOrEqual(100);
    expect(report.maxAbsDiff.successCalibrated).toBeLessThanOrEqual(1e-5);
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

  it('fails the self-check when the calibration in the manifest is not the one its served outputs came from', async () => {
    const dir = copy();
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { calibration: Record<string, unknown> };
    manifest.calibration = { method: 'platt', a: 1, b: 0.5 };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const failure = await selfCheckFailure(dir);
    expect(hasCode(failure, 'MODEL_SELF_CHECK_FAILED')).toBe(true);
    expect(String(failure)).toContain('successCalibrated differs');
  });

  it('refuses to self-check a calibrated bundle whose rows hold no calibrated expectation', async () => {
    const dir = copy();
    const check = JSON.parse(readFileSync(join(dir, 'self-check.json'), 'utf8')) as { expected: Record<string, string> };
    delete check.expected.successCalibrated;
    writeFileSync(join(dir, 'self-check.json'), JSON.stringify(check));
    const failure = await selfCheckFailure(dir);
    expect(hasCode(failure, 'MODEL_LOAD_FAILED')).toBe(true);
    expect(String(failure)).toContain('no successCalibrated');
  });
});

/** Loads the bundle in `dir`, runs its self-check and returns what it threw (undefined if it passed). */
async function selfCheckFailure(dir: string): Promise<unknown> {
  const bundle = await ModelBundle.load(dir);
  try {
    return await bundle.selfCheck().then(() => undefined, (e: unknown) => e);
  } finally {
    await bundle.close();
  }
}

describe('the models on a thread of their own (thread: true)', () => {
  // Every batch on the thread, however small (by default only batches of threadMinRows or more go there).
  const THREADED = { ...DEFAULT_SESSION_SETTINGS, thread: true, threadMinRows: 1 };

  it('gives the same outputs as on the calling thread, parity and self-check included, and closes its thread once', async () => {
    const threaded = await ModelBundle.load(BUNDLE_DIR, THREADED);
    const local = await ModelBundle.load(BUNDLE_DIR);
    try {
      const fixture = await readRowsFile(parityOf('2.0.0'));
      const report = await compareRows(threaded, fixture);
      for (const name of MODEL_NAMES) expect(report.maxAbsDiff[name], name).toBeLessThanOrEqual(1e-5);
      await threaded.selfCheck();
      const features = decodeFloat32(fixture.features);
      // The caller's buffer is copied, not moved: it stays usable, and both runs agree bit for bit.
      const [a, b] = await Promise.all([threaded.predict(features, 300), local.predict(features, 300)]);
      expect(features.length).toBe(fixture.rows * FEATURE_COUNT);
      expect(Array.from(a.success)).toEqual(Array.from(b.success));
      expect(Array.from(a.profit)).toEqual(Array.from(b.profit));
      expect(Array.from(a.duration)).toEqual(Array.from(b.duration));
      expect((await threaded.predict(features, 0)).profit.length).toBe(0);
    } finally {
      await threaded.close();
      await threaded.close();
      await local.close();
    }
    await expect(threaded.predict(new Float32Array(FEATURE_COUNT), 1)).rejects.toSatisfy((err: unknown) => hasCode(err, 'INTERNAL'));
  });

  it('refuses a corrupt model file before a thread starts, and reports a failed run as INFERENCE_FAILED', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-thread-'));
    cpSync(BUNDLE_DIR, dir, { recursive: true });
    const file = join(dir, 'success.onnx');
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);
    const failure = await ModelBundle.load(dir, THREADED).catch((err: unknown) => err);
    expect(hasCode(failure, 'MODEL_LOAD_FAILED')).toBe(true);
    expect(String(failure)).toContain('corrupt');

    const bundle = await ModelBundle.load(BUNDLE_DIR, THREADED);
    try {
      // Fewer numbers than the rows need: onnxruntime refuses the tensor inside the thread.
      await expect(bundle.runRaw(new Float32Array(FEATURE_COUNT), 2)).rejects.toSatisfy((err: unknown) => hasCode(err, 'INFERENCE_FAILED'));
      expect((await bundle.runRaw(new Float32Array(FEATURE_COUNT), 1)).profit.length).toBe(1);
    } finally {
      await bundle.close();
    }
  });
});
