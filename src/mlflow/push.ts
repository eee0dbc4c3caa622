import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyBundleFiles } from '../inference/index.js';
import type { MlflowClient, ModelVersion } from './client.js';

export interface PushOptions {
  /** The registered model's name (default: the bundle's own name). */
  readonly name?: string | undefined;
  readonly experiment: string;
  /** Aliases to point at the new version (e.g. staging). */
  readonly aliases?: readonly string[] | undefined;
  /** Tags of the new model version (e.g. the retraining gate's decision). */
  readonly tags?: Readonly<Record<string, string>> | undefined;
}

export interface PushReport {
  readonly name: string;
  readonly modelVersion: string;
  readonly runId: string;
  readonly artifactUri: string;
  readonly files: number;
  readonly aliases: readonly string[];
}

/** Where a bundle's files go inside its run. */
export const BUNDLE_ARTIFACT_PATH = 'bundle';

/**
 * Registers a local bundle in MLflow: a run in `experiment` that logs the bundle's parameters and card metrics and
 * holds its files as artifacts (under `bundle/`), then a new version of the registered model whose source is those
 * artifacts, then the aliases. The bundle is checked first (manifest, feature hash, file hashes), so what MLflow
 * holds is what this build can serve.
 */
export async function pushBundle(client: MlflowClient, dir: string, options: PushOptions): Promise<PushReport> {
  const { manifest, card } = await verifyBundleFiles(dir);
  const name = options.name ?? manifest.bundle;
  const experimentId = await client.experimentId(options.experiment);
  const run = await client.createRun(experimentId, `${manifest.bundle}@${manifest.version}`, {
    'opportunity_scorer.bundle': manifest.bundle,
    'opportunity_scorer.version': manifest.version,
    'opportunity_scorer.feature_hash': manifest.features.hash,
    'mlflow.source.type': 'LOCAL',
    'mlflow.note.content': `Bundle ${manifest.bundle}@${manifest.version} pushed by opportunity-scorer models push.`,
  });
  try {
    await client.logBatch(run.runId, bundleParams(manifest), { ...cardMetrics(card), ...(await gateMetrics(dir)) });
    await logFolds(client, run.runId, dir);
    const files = await listFiles(dir);
    const artifactUri = `${run.artifactUri.replace(/\/+$/, '')}/${BUNDLE_ARTIFACT_PATH}`;
    for (const file of files) await client.uploadArtifact(artifactUri, file, await readFile(join(dir, file)));
    await client.ensureRegisteredModel(name, 'Funding-rate arbitrage opportunity scorer bundles (feature spec + profit, success and duration models).');
    const version: ModelVersion = await client.createModelVersion(name, artifactUri, run.runId, `${manifest.bundle}@${manifest.version}`, {
      bundle: manifest.bundle,
      bundle_version: manifest.version,
      feature_hash: manifest.features.hash,
      ...options.tags,
    });
    for (const alias of options.aliases ?? []) await client.setAlias(name, alias, version.version);
    await client.finishRun(run.runId, 'FINISHED');
    return { name, modelVersion: version.version, runId: run.runId, artifactUri, files: files.length, aliases: options.aliases ?? [] };
  } catch (err) {
    await client.finishRun(run.runId, 'FAILED').catch(() => undefined);
    throw err;
  }
}

/** The bundle's files, relative to it, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** A JSON file of the bundle folder, or undefined when it has none. */
async function optionalJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    // Optional files (a bundle trained before walk-forward.json or the gate existed): nothing to log.
    return undefined;
  }
}

/** The retraining gate's figures (gate.json), when the bundle went through it. */
async function gateMetrics(dir: string): Promise<Record<string, number>> {
  const gate = await optionalJson(join(dir, 'gate.json'));
  if (gate === undefined) return {};
  const out: Record<string, number> = { 'gate.passed': gate.passed === true ? 1 : 0 };
  for (const [side, value] of [['candidate', gate.candidate], ['serving', gate.serving]] as const) {
    const figures = (value as { figures?: Record<string, unknown> } | undefined)?.figures ?? {};
    for (const [k, v] of Object.entries(figures)) if (typeof v === 'number') out[`gate.${side}.${k}`] = v;
  }
  return out;
}

/** Each walk-forward fold's figures with the chosen calibration, as metric series (step = fold). */
async function logFolds(client: MlflowClient, runId: string, dir: string): Promise<void> {
  const report = await optionalJson(join(dir, 'walk-forward.json'));
  const folds = report?.folds as Array<{ fold: number; model: Record<string, Record<string, unknown>>; differential: Record<string, unknown> }> | undefined;
  const method = (report?.choice as { calibration?: string } | undefined)?.calibration;
  if (folds === undefined || method === undefined) return;
  const series = folds.flatMap((f) => [
    ...Object.entries(f.model[method] ?? {}).map(([k, v]) => ({ key: `walk_forward.fold.${k}`, value: v, step: f.fold })),
    ...Object.entries(f.differential).map(([k, v]) => ({ key: `walk_forward.fold.differential.${k}`, value: v, step: f.fold })),
  ]);
  await client.logMetricSeries(runId, series.filter((m): m is { key: string; value: number; step: number } => typeof m.value === 'number' && Number.isFinite(m.value)));
}

type Manifest = Awaited<ReturnType<typeof verifyBundleFiles>>['manifest'];

function bundleParams(manifest: Manifest): Record<string, string> {
  const params: Record<string, string> = {
    bundle: manifest.bundle,
    version: manifest.version,
    feature_hash: manifest.features.hash,
    feature_count: String(manifest.features.count),
    calibration: manifest.calibration?.method ?? 'none',
  };
  for (const [model, entry] of Object.entries(manifest.models)) {
    params[`${model}.objective`] = entry.objective;
    params[`${model}.trees`] = String(entry.trees);
  }
  // What training saw and how: hyper-parameters, periods, rows, data fingerprint (one level of nesting flattened).
  for (const [k, v] of Object.entries(manifest.training)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) params[`training.${k}.${k2}`] = typeof v2 === 'string' ? v2 : JSON.stringify(v2);
    } else params[`training.${k}`] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return params;
}

/** The card's numeric figures, flattened to MLflow metric names (`walk_forward.average.success_roc_auc`, …). */
export function cardMetrics(card: Readonly<Record<string, unknown>>): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (value: unknown, path: string, depth: number): void => {
    if (depth > 6) return;
    if (typeof value === 'number' && Number.isFinite(value) && path !== '') out[path.slice(0, 250)] = value;
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, path === '' ? k.replace(/[^\w./ -]/g, '_') : `${path}.${k.replace(/[^\w./ -]/g, '_')}`, depth + 1);
    }
  };
  walk(card, '', 0);
  return out;
}
