import { ScorerError } from '../errors.js';

/** Where the MLflow tracking server is and how to authenticate (a token, or basic credentials; never both). */
export interface MlflowSettings {
  readonly trackingUri: string;
  readonly token?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly timeoutMs: number;
}

export interface ModelVersion {
  readonly name: string;
  readonly version: string;
  readonly source: string;
  readonly runId: string | undefined;
  readonly status: string | undefined;
  readonly aliases: readonly string[];
}

export interface ArtifactFile {
  /** Relative to the listed folder. */
  readonly path: string;
  readonly isDir: boolean;
  readonly size: number | undefined;
}

export interface RunInfo {
  readonly runId: string;
  readonly experimentId: string;
  readonly artifactUri: string;
}

interface RawModelVersion {
  name: string;
  version: string;
  source?: string;
  run_id?: string;
  status?: string;
  aliases?: string[];
}

const toModelVersion = (v: RawModelVersion): ModelVersion => ({
  name: v.name,
  version: String(v.version),
  source: v.source ?? '',
  runId: v.run_id === '' ? undefined : v.run_id,
  status: v.status,
  aliases: v.aliases ?? [],
});

/**
 * The slice of MLflow's REST API this service uses: the model registry (versions, aliases), runs and their
 * parameters and metrics, and artifacts through the tracking server's proxy (`mlflow-artifacts:` URIs), so a client
 * needs nothing but HTTP. A server that cannot be reached, or answers 5xx, is MLFLOW_UNAVAILABLE (retriable); an
 * answer that refuses the request (not found, bad credentials) is MLFLOW_REQUEST_FAILED with MLflow's own message.
 * Credentials go in a header only and never into a message.
 */
export class MlflowClient {
  readonly #base: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #timeoutMs: number;

  constructor(settings: MlflowSettings) {
    // Credentials in the URI itself (http://user:secret@host) move to the header: fetch refuses them in a URL, and
    // the URI appears in messages.
    const url = new URL(settings.trackingUri);
    const inUri = url.username === '' ? undefined : { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    url.username = '';
    url.password = '';
    this.#base = url.toString().replace(/\/+$/, '');
    const basic = settings.username !== undefined ? { username: settings.username, password: settings.password ?? '' } : inUri;
    const headers: Record<string, string> = {};
    if (settings.token !== undefined) headers.authorization = `Bearer ${settings.token}`;
    else if (basic !== undefined) headers.authorization = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
    this.#headers = headers;
    this.#timeoutMs = settings.timeoutMs;
  }

  get trackingUri(): string {
    return this.#base;
  }

  // --- model registry ---------------------------------------------------------------------------------------------

  async modelVersion(name: string, version: string): Promise<ModelVersion> {
    const r = await this.#json<{ model_version: RawModelVersion }>('GET', '/api/2.0/mlflow/model-versions/get', { name, version });
    return toModelVersion(r.model_version);
  }

  async modelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const r = await this.#json<{ model_version: RawModelVersion }>('GET', '/api/2.0/mlflow/registered-models/alias', { name, alias });
    return toModelVersion(r.model_version);
  }

  /** Where a version's files are (MLflow resolves `runs:/` and logged-model sources to an artifact URI). */
  async downloadUri(name: string, version: string): Promise<string> {
    return (await this.#json<{ artifact_uri: string }>('GET', '/api/2.0/mlflow/model-versions/get-download-uri', { name, version })).artifact_uri;
  }

  /** Creates the registered model unless it exists. */
  async ensureRegisteredModel(name: string, description: string): Promise<void> {
    try {
      await this.#json('GET', '/api/2.0/mlflow/registered-models/get', { name });
    } catch (err) {
      if (!(err instanceof ScorerError) || err.details.errorCode !== 'RESOURCE_DOES_NOT_EXIST') throw err;
      await this.#json('POST', '/api/2.0/mlflow/registered-models/create', undefined, { name, description });
    }
  }

  async createModelVersion(name: string, source: string, runId: string, description: string, tags: Readonly<Record<string, string>>): Promise<ModelVersion> {
    const r = await this.#json<{ model_version: RawModelVersion }>('POST', '/api/2.0/mlflow/model-versions/create', undefined, {
      name,
      source,
      run_id: runId,
      description,
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    });
    return toModelVersion(r.model_version);
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.#json('POST', '/api/2.0/mlflow/registered-models/alias', undefined, { name, alias, version });
  }


  // --- experiments and runs ---------------------------------------------------------------------------------------

  async experimentId(name: string): Promise<string> {
    try {
      return (await this.#json<{ experiment: { experiment_id: string } }>('GET', '/api/2.0/mlflow/experiments/get-by-name', { experiment_name: name })).experiment.experiment_id;
    } catch (err) {
      if (!(err instanceof ScorerError) || err.details.errorCode !== 'RESOURCE_DOES_NOT_EXIST') throw err;
      return (await this.#json<{ experiment_id: string }>('POST', '/api/2.0/mlflow/experiments/create', undefined, { name })).experiment_id;
    }
  }

  async createRun(experimentId: string, runName: string, tags: Readonly<Record<string, string>>): Promise<RunInfo> {
    const r = await this.#json<{ run: { info: { run_id: string; experiment_id: string; artifact_uri: string } } }>('POST', '/api/2.0/mlflow/runs/create', undefined, {
      experiment_id: experimentId,
      run_name: runName,
      start_time: Date.now(),
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    });
    return { runId: r.run.info.run_id, experimentId: r.run.info.experiment_id, artifactUri: r.run.info.artifact_uri };
  }

  async run(runId: string): Promise<RunInfo> {
    const r = await this.#json<{ run: { info: { run_id: string; experiment_id: string; artifact_uri: string } } }>('GET', '/api/2.0/mlflow/runs/get', { run_id: runId });
    return { runId: r.run.info.run_id, experimentId: r.run.info.experiment_id, artifactUri: r.run.info.artifact_uri };
  }

  /** Parameters (strings, ≤ 6,000 characters each) and metrics of a run, in batches MLflow accepts. */
  async logBatch(runId: string, params: Readonly<Record<string, string>>, metrics: Readonly<Record<string, number>>): Promise<void> {
    const timestamp = Date.now();
    const p = Object.entries(params).map(([key, value]) => ({ key, value: value.slice(0, 6_000) }));
    const m = Object.entries(metrics)
      .filter(([, v]) => Number.isFinite(v))
      .map(([key, value]) => ({ key, value, timestamp, step: 0 }));
    for (let i = 0; i < Math.max(p.length, m.length); i += 100) {
      await this.#json('POST', '/api/2.0/mlflow/runs/log-batch', undefined, { run_id: runId, params: p.slice(i, i + 100), metrics: m.slice(i, i + 100) });
    }
  }

  /** Metric values with their own steps (e.g. one per walk-forward fold). */
  async logMetricSeries(runId: string, metrics: ReadonlyArray<{ key: string; value: number; step: number }>): Promise<void> {
    const timestamp = Date.now();
    for (let i = 0; i < metrics.length; i += 500) {
      await this.#json('POST', '/api/2.0/mlflow/runs/log-batch', undefined, { run_id: runId, metrics: metrics.slice(i, i + 500).map((m) => ({ ...m, timestamp })) });
    }
  }

  async finishRun(runId: string, status: 'FINISHED' | 'FAILED'): Promise<void> {
    await this.#json('POST', '/api/2.0/mlflow/runs/update', undefined, { run_id: runId, status, end_time: Date.now() });
  }

  // --- artifacts (through the server's proxy) ---------------------------------------------------------------------

  /** The files below an artifact URI, recursively, with paths relative to it. */
  async listArtifacts(artifactUri: string): Promise<ArtifactFile[]> {
    const root = proxiedPath(artifactUri);
    const out: ArtifactFile[] = [];
    const walk = async (rel: string): Promise<void> => {
      const path = rel === '' ? root : `${root}/${rel}`;
      const r = await this.#json<{ files?: { path: string; is_dir: boolean; file_size?: number | string }[] }>('GET', '/api/2.0/mlflow-artifacts/artifacts', { path });
      for (const f of r.files ?? []) {
        const child = rel === '' ? f.path : `${rel}/${f.path}`;
        if (f.is_dir) await walk(child);
        else out.push({ path: child, isDir: false, size: f.file_size === undefined ? undefined : Number(f.file_size) });
      }
    };
    await walk('');
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  async downloadArtifact(artifactUri: string, relativePath: string): Promise<Buffer> {
    const response = await this.#fetch('GET', `/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${proxiedPath(artifactUri)}/${relativePath}`)}`);
    return Buffer.from(await response.arrayBuffer());
  }

  async uploadArtifact(artifactUri: string, relativePath: string, bytes: Uint8Array): Promise<void> {
    await this.#fetch('PUT', `/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${proxiedPath(artifactUri)}/${relativePath}`)}`, bytes, 'application/octet-stream');
  }

  // --- transport --------------------------------------------------------------------------------------------------

  async #json<T = unknown>(method: 'GET' | 'POST', path: string, query?: Readonly<Record<string, string>>, body?: unknown): Promise<T> {
    const url = query === undefined ? path : `${path}?${new URLSearchParams(query).toString()}`;
    const response = await this.#fetch(method, url, body === undefined ? undefined : JSON.stringify(body), 'application/json');
    const text = await response.text();
    try {
      return (text === '' ? {} : JSON.parse(text)) as T;
    } catch (cause) {
      throw new ScorerError('MLFLOW_REQUEST_FAILED', `MLflow at ${this.#base} answered ${method} ${path} with something that is not JSON`, { cause });
    }
  }

  async #fetch(method: string, path: string, body?: string | Uint8Array, contentType?: string): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, {
        method,
        headers: { ...this.#headers, ...(contentType === undefined || body === undefined ? {} : { 'content-type': contentType }) },
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      const reason = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
      throw new ScorerError('MLFLOW_UNAVAILABLE', `MLflow at ${this.#base} cannot be reached (${method} ${path.split('?')[0] ?? path}: ${reason})`, { cause });
    }
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    let errorCode: string | undefined;
    let message = text.slice(0, 500);
    try {
      const parsed = JSON.parse(text) as { error_code?: string; message?: string };
      errorCode = parsed.error_code;
      message = parsed.message ?? message;
    } catch {
      // Not MLflow's JSON error shape (a proxy's page, say): the text itself is the message.
    }
    const where = `MLflow at ${this.#base} answered ${method} ${path.split('?')[0] ?? path} with ${response.status}`;
    if (response.status >= 500 || response.status === 429) throw new ScorerError('MLFLOW_UNAVAILABLE', `${where}: ${message}`, { details: { status: response.status, errorCode } });
    throw new ScorerError('MLFLOW_REQUEST_FAILED', `${where}: ${message}`, { details: { status: response.status, errorCode } });
  }
}

/**
 * `mlflow-artifacts:/1/abc/artifacts/bundle` (or with an authority, `mlflow-artifacts://host:port/…`) → the path
 * below the server's artifact root. Other stores (s3:, gs:, file:) are read by MLflow's own clients, not through
 * the proxy: the server must run with --serve-artifacts.
 */
export function proxiedPath(artifactUri: string): string {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/+(.*)$/.exec(artifactUri);
  if (m === null) {
    throw new ScorerError(
      'MLFLOW_REQUEST_FAILED',
      `artifact URI ${artifactUri} is not served by the MLflow tracking server; run it with --serve-artifacts (mlflow-artifacts:/ URIs)`,
    );
  }
  return (m[1] ?? '').replace(/\/+$/, '');
}

const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/');
