import type { AppConfig } from '../config/index.js';
import { ScorerError } from '../errors.js';
import type { Logger } from '../logging/index.js';
import { MlflowBundleCache, MlflowClient, type MlflowSettings, MODEL_REF_FORMS, isMlflowRef, parseMlflowRef } from '../mlflow/index.js';
import { type ResolvedModel, resolveModelRef } from './registry.js';

/** Where model refs are resolved to a bundle folder: MODEL_DIR's registry, and MLflow when configured. */
export interface ModelSource {
  resolve(ref: string): Promise<ResolvedModel>;
  /**
   * Why a ref could not be resolved from its source the last time it was asked (MLflow down, a refused artifact),
   * while what serves keeps serving; empty when every source answered.
   */
  problems(): readonly string[];
}

export interface ModelSourceOptions {
  readonly modelDir: string;
  readonly mlflow?: (MlflowSettings & { readonly cacheDir: string }) | undefined;
  readonly log: Logger;
}

/**
 * Local refs (`<bundle>@<tag>`) come from MODEL_DIR; `models:/…` and `runs:/…` from MLflow, fetched into a checked
 * local cache. Either way the result is a folder that loads exactly like a local bundle, so hot reload, A/B and
 * shadow treat them alike; an alias moved in MLflow is seen like one moved in registry.json.
 */
export class RegistrySource implements ModelSource {
  readonly #modelDir: string;
  readonly #mlflow: MlflowBundleCache | undefined;
  readonly #problems = new Map<string, string>();

  constructor(options: ModelSourceOptions) {
    this.#modelDir = options.modelDir;
    this.#mlflow = options.mlflow === undefined ? undefined : new MlflowBundleCache(new MlflowClient(options.mlflow), options.mlflow.cacheDir, options.log);
  }

  async resolve(ref: string): Promise<ResolvedModel> {
    try {
      if (!isMlflowRef(ref)) {
        const local = await resolveModelRef(this.#modelDir, ref);
        this.#problems.delete(ref);
        return local;
      }
      const parsed = parseMlflowRef(ref);
      if (parsed === undefined) throw new ScorerError('CONFIG_INVALID', `model ref ${ref} is not one of ${MODEL_REF_FORMS}`);
      if (this.#mlflow === undefined) throw new ScorerError('CONFIG_INVALID', `model ref ${ref} names MLflow, but MLFLOW_TRACKING_URI is not set`);
      const cached = await this.#mlflow.resolve(parsed);
      if (cached.offline === undefined) this.#problems.delete(ref);
      else this.#problems.set(ref, `${ref}: MLflow unreachable, serving the cached ${cached.bundle}@${cached.version} it last resolved to (${cached.offline})`);
      return { ref, bundle: cached.bundle, version: cached.version, alias: cached.alias, dir: cached.dir };
    } catch (err) {
      this.#problems.set(ref, `${ref} cannot be loaded: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
  }

  problems(): readonly string[] {
    return [...this.#problems.values()];
  }
}

/** The model source a configuration names: MODEL_DIR's registry, and MLflow when MLFLOW_TRACKING_URI is set. */
export function modelSource(config: Pick<AppConfig, 'model' | 'mlflow'>, logger: Logger): RegistrySource {
  return new RegistrySource({ modelDir: config.model.dir, mlflow: config.mlflow, log: logger });
}
