import { ScorerError, findScorerError } from '../errors.js';
import { FEATURE_COUNT } from '../features/index.js';
import { DEFAULT_SESSION_SETTINGS, ModelBundle, type Routing, type ScoringEngine, type SessionSettings } from '../inference/index.js';
import type { Logger } from '../logging/index.js';
import type { ResolvedModel } from './registry.js';
import type { ModelSource } from './source.js';

export interface ModelRefs {
  readonly primary: string;
  readonly canary?: { readonly ref: string; readonly percent: number } | undefined;
  readonly shadow?: string | undefined;
}

export interface ResolvedRouting {
  readonly primary: ResolvedModel;
  readonly canary?: { readonly model: ResolvedModel; readonly percent: number } | undefined;
  readonly shadow?: ResolvedModel | undefined;
}

export type ReloadReport =
  | { readonly result: 'swapped'; readonly routing: ResolvedRouting; readonly previous: ResolvedRouting }
  | { readonly result: 'unchanged'; readonly routing: ResolvedRouting };

export interface ManagerObserver {
  onReload?(result: 'success' | 'failure' | 'unchanged'): void;
  onRouting?(routing: ResolvedRouting): void;
}

/** Resolves every ref of the routing against its source (aliases may have moved since the last time). */
export async function resolveRouting(source: ModelSource, refs: ModelRefs): Promise<ResolvedRouting> {
  return {
    primary: await source.resolve(refs.primary),
    canary: refs.canary === undefined ? undefined : { model: await source.resolve(refs.canary.ref), percent: refs.canary.percent },
    shadow: refs.shadow === undefined ? undefined : await source.resolve(refs.shadow),
  };
}

/**
 * Loads a bundle ready to serve: manifest and feature hash checked, file hashes verified, warmed up, and
 * self-checked against the rows it ships with. Any failure closes it and rejects.
 */
export async function loadReadyBundle(dir: string, settings: SessionSettings = DEFAULT_SESSION_SETTINGS): Promise<ModelBundle> {
  const bundle = await ModelBundle.load(dir, settings);
  try {
    await bundle.predict(new Float32Array(FEATURE_COUNT * 8), 8); // first runs allocate; keep that off the hot path
    await bundle.selfCheck();
    return bundle;
  } catch (err) {
    await bundle.close();
    throw err;
  }
}

const dirsOf = (r: ResolvedRouting): string[] => [r.primary.dir, r.canary?.model.dir, r.shadow?.dir].filter((d): d is string => d !== undefined);
const sameRouting = (a: ResolvedRouting, b: ResolvedRouting): boolean =>
  a.primary.dir === b.primary.dir && a.canary?.model.dir === b.canary?.model.dir && a.canary?.percent === b.canary?.percent && a.shadow?.dir === b.shadow?.dir;

/**
 * Owns which bundles serve. `reload()` re-resolves the refs (an alias may point elsewhere now), loads and checks the
 * new bundles before an atomic swap in the engine, and closes replaced bundles once their last batch is done. A
 * failed reload leaves the serving bundles untouched and rejects with the reason. Reloads never overlap.
 */
export class ModelManager {
  readonly #engine: ScoringEngine;
  readonly #source: ModelSource;
  readonly #refs: ModelRefs;
  readonly #log: Logger;
  readonly #observer: ManagerObserver;
  /** How every bundle this manager loads runs its models (on the event loop or a thread of its own). */
  readonly #settings: SessionSettings;
  #current: ResolvedRouting;
  #reloading: Promise<ReloadReport> | undefined;
  #poll: NodeJS.Timeout | undefined;
  /** Why the last reload failed (the serving bundles stayed); cleared by the next reload that does not fail. */
  #reloadFailure: string | undefined;

  private constructor(engine: ScoringEngine, source: ModelSource, refs: ModelRefs, current: ResolvedRouting, log: Logger, observer: ManagerObserver, settings: SessionSettings) {
    this.#settings = settings;
    this.#engine = engine;
    this.#source = source;
    this.#refs = refs;
    this.#current = current;
    this.#log = log.child({ component: 'models' });
    this.#observer = observer;
    observer.onRouting?.(current);
  }

  /** Loads the initial routing; the engine is created from it by `createEngine`. */
  static async start(
    source: ModelSource,
    refs: ModelRefs,
    createEngine: (routing: Routing) => ScoringEngine,
    log: Logger,
    observer: ManagerObserver = {},
    settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
  ): Promise<ModelManager> {
    const resolved = await resolveRouting(source, refs);
    const routing = await loadRouting(resolved, settings);
    return new ModelManager(createEngine(routing), source, refs, resolved, log, observer, settings);
  }

  get engine(): ScoringEngine {
    return this.#engine;
  }

  get current(): ResolvedRouting {
    return this.#current;
  }

  get refs(): ModelRefs {
    return this.#refs;
  }

  /**
   * Why a newer bundle cannot serve, while the loaded ones do: a ref its source could not resolve the last time, or
   * the last reload's failure to load what was resolved (a corrupt or foreign bundle). Empty when fine.
   */
  problems(): readonly string[] {
    const fromSource = this.#source.problems();
    return this.#reloadFailure === undefined ? fromSource : [...fromSource, `model reload failed: ${this.#reloadFailure}`];
  }

  reload(): Promise<ReloadReport> {
    this.#reloading ??= this.#reload().finally(() => (this.#reloading = undefined));
    return this.#reloading;
  }

  async #reload(): Promise<ReloadReport> {
    let next: ResolvedRouting | undefined;
    let routing: Routing;
    try {
      next = await resolveRouting(this.#source, this.#refs);
      if (sameRouting(next, this.#current)) {
        this.#reloadFailure = undefined;
        this.#observer.onReload?.('unchanged');
        return { result: 'unchanged', routing: this.#current };
      }
      routing = await loadRouting(next, this.#settings, this.#engine.routing, this.#current);
    } catch (err) {
      // A ref that did not resolve is its source's problem (it says so); one that resolved but failed to load is ours.
      this.#reloadFailure = next === undefined ? undefined : err instanceof Error ? err.message : String(err);
      this.#observer.onReload?.('failure');
      this.#log.error({ err }, 'model reload failed; the serving bundles stay');
      throw findScorerError(err) ?? new ScorerError('MODEL_LOAD_FAILED', String(err), { cause: err });
    }
    const previousResolved = this.#current;
    const previous = await this.#engine.setRouting(routing);
    this.#current = next;
    this.#reloadFailure = undefined;
    this.#observer.onRouting?.(next);
    this.#observer.onReload?.('success');
    const kept = new Set(bundlesOf(routing));
    await Promise.all(bundlesOf(previous).filter((b) => !kept.has(b)).map((b) => b.close()));
    this.#log.info({ from: dirsOf(previousResolved), to: dirsOf(next) }, 'model bundles swapped');
    return { result: 'swapped', routing: next, previous: previousResolved };
  }

  /** Reloads whenever the resolved routing changes (e.g. after `models promote`); 0 turns polling off. */
  startPolling(intervalMs: number): void {
    if (intervalMs <= 0 || this.#poll !== undefined) return;
    let lastFailure: string | undefined;
    this.#poll = setInterval(() => {
      void resolveRouting(this.#source, this.#refs)
        .then((r) => (sameRouting(r, this.#current) ? undefined : this.reload()))
        .then(() => {
          if (lastFailure !== undefined) this.#log.info('registry poll succeeds again');
          lastFailure = undefined;
        })
        .catch((err: unknown) => {
          // Logged once per distinct reason: a source down for an hour is one line, not one per poll.
          const reason = err instanceof Error ? err.message : String(err);
          if (reason !== lastFailure) this.#log.warn({ err }, 'registry poll failed; the serving bundles stay');
          lastFailure = reason;
        });
    }, intervalMs);
    this.#poll.unref();
  }

  async close(): Promise<void> {
    if (this.#poll !== undefined) clearInterval(this.#poll);
    await this.#reloading?.catch(() => undefined);
    await Promise.all(bundlesOf(this.#engine.routing).map((b) => b.close()));
  }
}

/** The distinct bundles of a routing. */
function bundlesOf(r: Routing): ModelBundle[] {
  return [...new Set([r.primary, r.canary?.bundle, r.shadow].filter((b): b is ModelBundle => b !== undefined))];
}

/** Opens the bundles of a routing, reusing those already serving from the same folder. */
async function loadRouting(next: ResolvedRouting, settings: SessionSettings, serving?: Routing, servingResolved?: ResolvedRouting): Promise<Routing> {
  const reusable = new Map<string, ModelBundle>();
  if (serving !== undefined && servingResolved !== undefined) {
    reusable.set(servingResolved.primary.dir, serving.primary);
    if (servingResolved.canary !== undefined && serving.canary !== undefined) reusable.set(servingResolved.canary.model.dir, serving.canary.bundle);
    if (servingResolved.shadow !== undefined && serving.shadow !== undefined) reusable.set(servingResolved.shadow.dir, serving.shadow);
  }
  const opened: ModelBundle[] = [];
  const open = async (dir: string): Promise<ModelBundle> => {
    const existing = reusable.get(dir);
    if (existing !== undefined) return existing;
    const bundle = await loadReadyBundle(dir, settings);
    opened.push(bundle);
    reusable.set(dir, bundle);
    return bundle;
  };
  try {
    return {
      primary: await open(next.primary.dir),
      canary: next.canary === undefined ? undefined : { bundle: await open(next.canary.model.dir), percent: next.canary.percent },
      shadow: next.shadow === undefined ? undefined : await open(next.shadow.dir),
    };
  } catch (err) {
    await Promise.all(opened.map((b) => b.close()));
    throw err;
  }
}
