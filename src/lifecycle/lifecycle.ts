import { ScorerError } from '../errors.js';
import type { Logger } from '../logging/index.js';

export type LifecycleState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

const NEXT: Readonly<Record<LifecycleState, readonly LifecycleState[]>> = {
  starting: ['running', 'draining', 'failed'],
  running: ['draining', 'failed'],
  draining: ['stopped', 'failed'],
  stopped: [],
  // A failed component still drains (to commit what it wrote and leave its group); it ends failed, never stopped.
  failed: ['draining'],
};

export type LifecycleListener = (state: LifecycleState, reason: string | undefined) => void;

/** What the owner of a lifecycle lets others see: the state, the failure that ended it, and every change. */
export interface LifecycleView {
  readonly state: LifecycleState;
  /** Why it failed; kept through the drain that follows, so a failure is never reported as a clean stop. */
  readonly failure: string | undefined;
  is(...states: LifecycleState[]): boolean;
  onChange(listener: LifecycleListener): void;
}

/**
 * An explicit state machine; illegal transitions are bugs and throw. Every transition is logged and seen by the
 * listeners. Only the owner holds this object and calls `to`; others get its `view`.
 */
export class Lifecycle implements LifecycleView {
  #state: LifecycleState = 'starting';
  #failure: string | undefined;
  readonly #log: Logger | undefined;
  readonly #listeners: LifecycleListener[] = [];
  readonly view: LifecycleView;

  constructor(logger?: Logger) {
    this.#log = logger;
    const state = (): LifecycleState => this.#state;
    const failure = (): string | undefined => this.#failure;
    this.view = Object.freeze({
      get state() {
        return state();
      },
      get failure() {
        return failure();
      },
      is: (...states: LifecycleState[]) => this.is(...states),
      onChange: (listener: LifecycleListener) => this.onChange(listener),
    });
  }

  get state(): LifecycleState {
    return this.#state;
  }

  get failure(): string | undefined {
    return this.#failure;
  }

  is(...states: LifecycleState[]): boolean {
    return states.includes(this.#state);
  }

  to(state: LifecycleState, reason?: string): void {
    if (state === this.#state) return;
    const from = this.#state;
    if (state === 'stopped' && this.#failure !== undefined) state = 'failed';
    if (!NEXT[from].includes(state)) throw new ScorerError('INTERNAL', `illegal lifecycle transition ${from} -> ${state}`);
    if (state === 'failed') this.#failure ??= reason ?? 'failed';
    this.#state = state;
    const level = state === 'failed' ? 'error' : 'info';
    this.#log?.[level]({ from, to: state, reason }, `lifecycle ${from} -> ${state}`);
    for (const listener of this.#listeners) listener(state, reason);
  }

  onChange(listener: LifecycleListener): void {
    this.#listeners.push(listener);
  }
}
