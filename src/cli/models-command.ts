import type { AppConfig } from '../config/index.js';
import { ScorerError } from '../errors.js';
import type { Logger } from '../logging/index.js';
import { MlflowClient, type PushReport, pushBundle } from '../mlflow/index.js';
import { resolveModelRef } from '../registry/index.js';

/** The configuration's MLflow settings, or a CONFIG_INVALID naming the key to set. */
function mlflowSettings(config: AppConfig, what: string): NonNullable<AppConfig['mlflow']> {
  if (config.mlflow === undefined) throw new ScorerError('CONFIG_INVALID', `${what} needs MLflow: set MLFLOW_TRACKING_URI`);
  return config.mlflow;
}

/** `models push <bundle>@<version|alias>`: registers a local bundle as a new MLflow model version. */
export async function pushCommand(
  config: AppConfig,
  logger: Logger,
  ref: string,
  opts: { name?: string | undefined; alias?: string[] | undefined; tag?: string[] | undefined },
): Promise<PushReport> {
  const settings = mlflowSettings(config, 'models push');
  const client = new MlflowClient(settings);
  const tags: Record<string, string> = {};
  for (const t of opts.tag ?? []) {
    const eq = t.indexOf('=');
    if (eq <= 0) throw new ScorerError('CONFIG_INVALID', `--tag ${JSON.stringify(t)} must look like key=value`);
    tags[t.slice(0, eq)] = t.slice(eq + 1);
  }
  const resolved = await resolveModelRef(config.model.dir, ref);
  const report = await pushBundle(client, resolved.dir, { name: opts.name, experiment: settings.experiment, aliases: opts.alias, tags });
  logger.info({ ...report, trackingUri: client.trackingUri }, 'bundle registered in MLflow');
  return report;
}

/** `models promote --mlflow`: moves an alias of a registered model; says where it pointed before. */
export async function promoteInMlflow(config: AppConfig, name: string, version: string, alias: string): Promise<{ previous: string | undefined }> {
  const client = new MlflowClient(mlflowSettings(config, 'models promote --mlflow'));
  await client.modelVersion(name, version);
  const previous = await client.modelVersionByAlias(name, alias).then(
    (v) => v.version,
    (err: unknown) => {
      if (err instanceof ScorerError && err.code === 'MLFLOW_REQUEST_FAILED' && err.details.status === 404) return undefined;
      throw err;
    },
  );
  await client.setAlias(name, alias, version);
  return { previous };
}
