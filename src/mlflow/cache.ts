import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { ScorerError, findScorerError } from '../errors.js';
import { readBundleInfo, verifyBundleFiles } from '../inference/index.js';
import type { Logger } from '../logging/index.js';
import type { MlflowClient } from './client.js';
import type { MlflowRef } from './refs.js';

/** A bundle from MLflow, on local disk and checked. */
export interface CachedBundle {
  readonly dir: string;
  /** The bundle's own name and version (its manifest). */
  readonly bundle: string;
  readonly version: string;
  readonly alias: string | undefined;
  /** Set when MLflow could not be asked and the last resolution kept on disk was used: why. */
  readonly offline: string | undefined;
}

interface Remembered {
  readonly artifactUri: string;
  readonly at: string;
}

const MAX_FILES = 200;
const MAX_BYTES = 512 * 1024 * 1024;

/**
 * Bundles fetched from MLflow into a local cache. A folder per artifact URI (a registered version's files never
 * change), written under a temporary name, checked (manifest, feature hash, every model file's sha256) and only then
 * renamed into place, so the cache never holds a half or corrupt copy. What each ref last resolved to is kept on
 * disk: when MLflow cannot be reached, that cached bundle still loads (and says so).
 */
export class MlflowBundleCache {
  readonly #client: MlflowClient;
  readonly #dir: string;
  readonly #log: Logger;
  /** Artifacts refused by their check, with why: a registered version's files never change, so neither would the answer. */
  readonly #refused = new Map<string, ScorerError>();
  /** Each cached folder's bundle name and version, read once: its files were checked when it was fetched. */
  readonly #named = new Map<string, { readonly bundle: string; readonly version: string }>();
  /** What refs.json holds for each ref, as this process last wrote or read it (polls rewrite nothing unchanged). */
  #known: Record<string, Remembered> | undefined;

  constructor(client: MlflowClient, dir: string, log: Logger) {
    this.#client = client;
    this.#dir = dir;
    this.#log = log.child({ component: 'mlflow' });
  }

  async resolve(ref: MlflowRef): Promise<CachedBundle> {
    let artifactUri: string;
    try {
      artifactUri = await this.#ask(ref);
    } catch (err) {
      const unavailable = findScorerError(err, 'MLFLOW_UNAVAILABLE');
      if (unavailable === undefined) throw err;
      const remembered = (await this.#remembered())[ref.uri];
      if (remembered === undefined || !(await exists(this.#folder(remembered.artifactUri)))) {
        throw new ScorerError('MLFLOW_UNAVAILABLE', `${ref.uri}: ${unavailable.message}; nothing cached for it in ${this.#dir}`, { cause: err });
      }
      const cached = await this.#describe(ref, remembered.artifactUri, unavailable.message);
      this.#log.warn({ ref: ref.uri, dir: cached.dir, resolvedAt: remembered.at, reason: unavailable.message }, 'MLflow unreachable: using the bundle this ref last resolved to');
      return cached;
    }
    const refused = this.#refused.get(artifactUri);
    if (refused !== undefined) throw refused;
    const dir = this.#folder(artifactUri);
    if (!(await exists(dir))) await this.#download(ref, artifactUri, dir);
    await this.#remember(ref.uri, artifactUri);
    return this.#describe(ref, artifactUri, undefined);
  }

  /** The artifact URI a ref points at now. */
  async #ask(ref: MlflowRef): Promise<string> {
    switch (ref.kind) {
      case 'version':
        return this.#client.downloadUri(ref.name, ref.version);
      case 'alias':
        return this.#client.downloadUri(ref.name, (await this.#client.modelVersionByAlias(ref.name, ref.alias)).version);
      case 'run':
        return `${(await this.#client.run(ref.runId)).artifactUri.replace(/\/+$/, '')}/${ref.path}`;
    }
  }

  async #describe(ref: MlflowRef, artifactUri: string, offline: string | undefined): Promise<CachedBundle> {
    const dir = this.#folder(artifactUri);
    let named = this.#named.get(dir);
    if (named === undefined) {
      // The model files are checked again when the bundle loads; here only its name is needed.
      const { manifest } = await readBundleInfo(dir);
      named = { bundle: manifest.bundle, version: manifest.version };
      this.#named.set(dir, named);
    }
    return { dir, ...named, alias: ref.kind === 'alias' ? ref.alias : undefined, offline };
  }

  #folder(artifactUri: string): string {
    return join(this.#dir, createHash('sha256').update(artifactUri).digest('hex').slice(0, 32));
  }

  async #download(ref: MlflowRef, artifactUri: string, dir: string): Promise<void> {
    const started = Date.now();
    const files = await this.#client.listArtifacts(artifactUri);
    if (files.length === 0) throw new ScorerError('MODEL_LOAD_FAILED', `${ref.uri}: no files at ${artifactUri}`);
    if (files.length > MAX_FILES) throw new ScorerError('MODEL_LOAD_FAILED', `${ref.uri}: ${files.length} files at ${artifactUri}, more than a bundle has (${MAX_FILES})`);
    const temp = `${dir}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
    let bytes = 0;
    try {
      for (const f of files) {
        const rel = normalize(f.path);
        if (rel.startsWith('..') || rel.startsWith('/')) throw new ScorerError('MODEL_LOAD_FAILED', `${ref.uri}: artifact path ${f.path} leaves the bundle folder`);
        const body = await this.#client.downloadArtifact(artifactUri, f.path);
        bytes += body.length;
        if (bytes > MAX_BYTES) throw new ScorerError('MODEL_LOAD_FAILED', `${ref.uri}: the artifacts at ${artifactUri} are larger than ${MAX_BYTES} bytes`);
        await mkdir(dirname(join(temp, rel)), { recursive: true });
        await writeFile(join(temp, rel), body);
      }
      try {
        await verifyBundleFiles(temp);
      } catch (err) {
        const refused = new ScorerError('MODEL_LOAD_FAILED', `${ref.uri} (${artifactUri}) is refused: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        if (this.#refused.size < 100) this.#refused.set(artifactUri, refused);
        throw refused;
      }
      await rename(temp, dir).catch(async (err: unknown) => {
        // Another process cached the same artifacts first: theirs is as good (checked the same way).
        if (!(await exists(dir))) throw err;
      });
      this.#log.info({ ref: ref.uri, artifactUri, dir, files: files.length, bytes, ms: Date.now() - started }, 'bundle fetched from MLflow');
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  get #refsFile(): string {
    return join(this.#dir, 'refs.json');
  }

  async #remembered(): Promise<Record<string, Remembered>> {
    if (this.#known !== undefined) return this.#known;
    try {
      this.#known = JSON.parse(await readFile(this.#refsFile, 'utf8')) as Record<string, Remembered>;
    } catch {
      // No record yet, or one cut short by a crash: nothing is remembered, MLflow is asked next time.
      this.#known = {};
    }
    return this.#known;
  }

  async #remember(uri: string, artifactUri: string): Promise<void> {
    if ((await this.#remembered())[uri]?.artifactUri === artifactUri) return;
    // A change (rare: an alias moved): read the file again, so another process's entries survive the write.
    this.#known = undefined;
    const all = { ...(await this.#remembered()), [uri]: { artifactUri, at: new Date().toISOString() } };
    this.#known = all;
    await mkdir(this.#dir, { recursive: true });
    const temp = `${this.#refsFile}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
    await writeFile(temp, `${JSON.stringify(all, null, 2)}\n`);
    await rename(temp, this.#refsFile);
  }
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );
