export type LifecycleState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

const NEXT: Readonly<Record<LifecycleState, readonly LifecycleState[]>> = {
  starting: ['running', 'draining', 'failed'],
  running: ['draining', 'failed'],
  draining: ['stopped', 'failed'],
  stopped: [],
  failed: ['draining', 'stopped'],
};

/** An explicit state machine; illegal transitions are bugs and throw. Listeners see every change. */
export class Lifecycle {
  #state: LifecycleState = 'starting';
  #reason: string | undefined;
  readonly #listeners: Array<(state: LifecycleState, reason: string | undefined) => void> = [];

  get state(): LifecycleState {
    return this.#state;
  }

  get reason(): string | undefined {
    return this.#reason;
  }

  is(...states: LifecycleState[]): boolean {
    return states.includes(this.#state);
  }

  to(state: LifecycleState, reason?: string): void {
    if (state === this.#state) return;
    if (!NEXT[this.#state].includes(state)) throw new Error(`illegal lifecycle transition ${this.#state} -> ${state}`);
    this.#state = state;
    this.#reason = reason;
    for (const listener of this.#listeners) listener(state, reason);
  }

  onChange(listener: (state: LifecycleState, reason: string | undefined) => void): void {
    this.#listeners.push(listener);
  }
}
