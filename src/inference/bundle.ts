import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ScorerError } from '../errors.js';
import { calibrateAll } from './calibration.js';
import { FEATURE_COUNT, FEATURE_HASH, FEATURE_NAMES } from '../features/index.js';
import { isMissingFile } from '../files/index.js';
import { DEFAULT_SESSION_SETTINGS, type ModelRunner, type RawOutputs, SessionRunner, type SessionSettings, ThreadRunner } from './sessions.js';
import {
  type BundleManifest,
  MODEL_NAMES,
  type ModelName,
  type RowsFile,
  bundleManifestSchema,
  decodeFloat32,
  rowsFileSchema,
} from './manifest.js';

export { DEFAULT_SESSION_SETTINGS, type RawOutputs, type SessionSettings } from './sessions.js';

/** Outputs in label units: profit %, success probability (calibrated when the bundle says so), duration hours. */
export interface Predictions {
  readonly profit: Float32Array;
  readonly success: Float32Array;
  readonly duration: Float32Array;
}

/** What compareRows compares: the three native outputs, and the served (calibrated) success probability when expected. */
export type ComparedOutput = ModelName | 'successCalibrated';

export interface SelfCheckReport {
  readonly rows: number;
  readonly tolerance: number;
  readonly maxAbsDiff: Readonly<Partial<Record<ComparedOutput, number>>> & Readonly<Record<ModelName, number>>;
}

/**
 * A model bundle (manifest + three ONNX models) loaded into onnxruntime sessions. A bundle is only ever used
 * whole, so the four numbers of a result always come from one bundle version.
 */
export class ModelBundle {
  readonly manifest: BundleManifest;
  /** The model card's metrics (the manifest's `metrics` file), read and checked once at load. */
  readonly card: ModelCard;
  readonly dir: string;
  readonly #local: ModelRunner;
  readonly #thread: ModelRunner | undefined;
  readonly #threadMinRows: number;
  #closed = false;

  private constructor(dir: string, info: BundleInfo, local: ModelRunner, thread: ModelRunner | undefined, threadMinRows: number) {
    this.dir = dir;
    this.manifest = info.manifest;
    this.card = info.card;
    this.#local = local;
    this.#thread = thread;
    this.#threadMinRows = threadMinRows;
  }

  get name(): string {
    return this.manifest.bundle;
  }

  get version(): string {
    return this.manifest.version;
  }

  /**
   * Reads and checks the manifest, refuses a bundle trained with another feature spec, verifies every model
   * file's sha256 (a corrupt copy is refused before onnxruntime sees it) and opens the sessions.
   */
  static async load(dir: string, settings: SessionSettings = DEFAULT_SESSION_SETTINGS): Promise<ModelBundle> {
    const info = await readBundleInfo(dir);
    checkFeatureSpec(info.manifest);
    const files = await verifiedModelFiles(dir, info.manifest);
    const local = await SessionRunner.open(info.manifest, files, settings);
    let thread: ThreadRunner | undefined;
    try {
      thread = settings.thread ? await ThreadRunner.start({ manifest: info.manifest, files, settings }) : undefined;
    } catch (err) {
      await local.close();
      throw err;
    }
    return new ModelBundle(dir, info, local, thread, settings.threadMinRows);
  }

  /** The three models' native outputs for `rows` feature rows at the start of `features`. */
  async runRaw(features: Float32Array, rows: number): Promise<RawOutputs> {
    if (this.#closed) throw new ScorerError('INTERNAL', `bundle ${this.name}@${this.version} is closed`);
    if (rows === 0) return { profit: new Float32Array(0), success: new Float32Array(0), duration: new Float32Array(0) };
    const runner = this.#thread !== undefined && rows >= this.#threadMinRows ? this.#thread : this.#local;
    return runner.run(features, rows);
  }

  /**
   * Predictions in label units, as served: the success probability through the bundle's calibration, the duration
   * model's log1p output mapped back to hours (never negative).
   */
  async predict(features: Float32Array, rows: number): Promise<Predictions> {
    return this.served(await this.runRaw(features, rows));
  }

  served(raw: RawOutputs): Predictions {
    const duration = this.manifest.models.duration.outputTransform === 'expm1' ? raw.duration.map((v) => Math.max(0, Math.expm1(v))) : raw.duration;
    return { profit: raw.profit, success: calibrateAll(this.manifest.calibration, raw.success), duration };
  }

  /** Runs the bundle's own self-check rows; throws MODEL_SELF_CHECK_FAILED when an output is off by more than the tolerance. */
  async selfCheck(): Promise<SelfCheckReport> {
    const file = await readRowsFile(join(this.dir, this.manifest.selfCheck.file));
    const report = await compareRows(this, file);
    const compared = Object.keys(report.maxAbsDiff) as ComparedOutput[];
    const worst = compared.find((n) => !((report.maxAbsDiff[n] ?? Number.POSITIVE_INFINITY) <= file.tolerance));
    if (worst !== undefined) {
      throw new ScorerError(
        'MODEL_SELF_CHECK_FAILED',
        `${this.name}@${this.version}: ${worst} differs from its expected output by ${report.maxAbsDiff[worst]} (tolerance ${file.tolerance})`,
        { details: { maxAbsDiff: report.maxAbsDiff } },
      );
    }
    return report;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#local.close(), this.#thread?.close()]);
  }
}

/** A model card's metrics: test-period and walk-forward figures as training wrote them. */
export type ModelCard = Readonly<Record<string, unknown>>;

/** A bundle's manifest and model card, without opening its models. */
export interface BundleInfo {
  readonly manifest: BundleManifest;
  readonly card: ModelCard;
}

/** Refuses a bundle trained with another feature spec than this build computes. */
function checkFeatureSpec(manifest: BundleManifest): void {
  if (manifest.features.hash !== FEATURE_HASH || manifest.features.names.join('\n') !== FEATURE_NAMES.join('\n')) {
    throw new ScorerError(
      'MODEL_FEATURE_MISMATCH',
      `bundle ${manifest.bundle}@${manifest.version} was trained with feature hash ${manifest.features.hash} (spec v${manifest.features.specVersion}, ${manifest.features.count} features); this build computes ${FEATURE_HASH} (${FEATURE_COUNT} features)`,
      { details: { bundleHash: manifest.features.hash, serviceHash: FEATURE_HASH } },
    );
  }
}

/** A model file's bytes, refused unless their sha256 is the manifest's. */
async function verifiedModelFile(dir: string, manifest: BundleManifest, name: ModelName): Promise<Buffer> {
  const entry = manifest.models[name];
  const bytes = await readFile(join(dir, entry.file)).catch((cause: unknown) => {
    throw new ScorerError('MODEL_LOAD_FAILED', `cannot read ${entry.file} of ${manifest.bundle}@${manifest.version}`, { cause });
  });
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== entry.sha256) {
    throw new ScorerError('MODEL_LOAD_FAILED', `${entry.file} of ${manifest.bundle}@${manifest.version} is corrupt: sha256 ${digest}, manifest says ${entry.sha256}`, {
      details: { file: entry.file, sha256: digest, expected: entry.sha256 },
    });
  }
  return bytes;
}

/**
 * The checks a load makes before any model runs, without opening sessions: manifest and card readable, the feature
 * spec this build computes, every model file's sha256. For a copy fetched from elsewhere (an MLflow artifact).
 */
export async function verifyBundleFiles(dir: string): Promise<BundleInfo> {
  const info = await readBundleInfo(dir);
  checkFeatureSpec(info.manifest);
  await verifiedModelFiles(dir, info.manifest);
  return info;
}

/** The three model files' bytes, each refused unless its sha256 is the manifest's. */
export async function verifiedModelFiles(dir: string, manifest: BundleManifest): Promise<Record<ModelName, Buffer>> {
  const files = {} as Record<ModelName, Buffer>;
  for (const name of MODEL_NAMES) files[name] = await verifiedModelFile(dir, manifest, name);
  return files;
}

/**
 * Reads and validates a bundle's manifest and card (the one place either is read). A card the manifest names must
 * exist; a bundle that names none may ship `metrics.json` or nothing.
 */
export async function readBundleInfo(dir: string): Promise<BundleInfo> {
  const manifest = await readManifest(dir);
  const file = manifest.metrics ?? 'metrics.json';
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (cause) {
    if (manifest.metrics === undefined && isMissingFile(cause)) return { manifest, card: {} };
    throw new ScorerError('MODEL_LOAD_FAILED', `cannot read the model card ${file} of ${manifest.bundle}@${manifest.version}`, { cause });
  }
  let card: unknown;
  try {
    card = JSON.parse(text);
  } catch (cause) {
    throw new ScorerError('MODEL_LOAD_FAILED', `the model card ${file} of ${manifest.bundle}@${manifest.version} is not JSON`, { cause });
  }
  if (typeof card !== 'object' || card === null || Array.isArray(card)) {
    throw new ScorerError('MODEL_LOAD_FAILED', `the model card ${file} of ${manifest.bundle}@${manifest.version} is not a JSON object`);
  }
  return { manifest, card: card as ModelCard };
}

async function readManifest(dir: string): Promise<BundleManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, 'manifest.json'), 'utf8');
  } catch (cause) {
    throw new ScorerError('MODEL_LOAD_FAILED', `no manifest.json in ${dir}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ScorerError('MODEL_LOAD_FAILED', `manifest.json in ${dir} is not JSON`, { cause });
  }
  const parsed = bundleManifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ScorerError('MODEL_LOAD_FAILED', `manifest.json in ${dir} is invalid: ${problems}`);
  }
  return parsed.data;
}

export async function readRowsFile(path: string): Promise<RowsFile> {
  const parsed = rowsFileSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new ScorerError('MODEL_LOAD_FAILED', `${path} is not a rows file: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * Max |bundle output − expected| over the rows of a self-check file or parity fixture: per model on its native
 * output, and on the served success probability when the file holds it (a calibrated bundle's must).
 */
export async function compareRows(bundle: ModelBundle, file: RowsFile): Promise<SelfCheckReport> {
  if (file.featureHash !== FEATURE_HASH) {
    throw new ScorerError('MODEL_FEATURE_MISMATCH', `rows were computed with feature hash ${file.featureHash}, this build computes ${FEATURE_HASH}`);
  }
  const features = decodeFloat32(file.features);
  const raw = await bundle.runRaw(features, file.rows);
  const maxAbsDiff: Partial<Record<ComparedOutput, number>> = {};
  for (const name of MODEL_NAMES) maxAbsDiff[name] = maxDiff(raw[name], decodeFloat32(file.expected[name]), file.rows);
  const calibrated = bundle.manifest.calibration !== undefined && bundle.manifest.calibration.method !== 'none';
  if (file.expected.successCalibrated !== undefined) {
    maxAbsDiff.successCalibrated = maxDiff(bundle.served(raw).success, decodeFloat32(file.expected.successCalibrated), file.rows);
  } else if (calibrated) {
    throw new ScorerError('MODEL_LOAD_FAILED', `${bundle.name}@${bundle.version} calibrates its success probability, but the rows hold no successCalibrated to check it against`);
  }
  return { rows: file.rows, tolerance: file.tolerance, maxAbsDiff: maxAbsDiff as SelfCheckReport['maxAbsDiff'] };
}

function maxDiff(got: Float32Array, want: Float32Array, rows: number): number {
  let worst = 0;
  for (let i = 0; i < rows; i++) {
    const g = got[i];
    const w = want[i];
    // A missing or NaN output is infinitely far from its expectation: it can never pass.
    const diff = g === undefined || w === undefined || Number.isNaN(g) || Number.isNaN(w) ? Number.POSITIVE_INFINITY : Math.abs(g - w);
    if (diff > worst) worst = diff;
  }
  return worst;
}
