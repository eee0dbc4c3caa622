import type { Logger } from '../logging/index.js';

/** What the handler listens to: the process, in production; an EventEmitter in tests. */
export interface SignalSource {
  on(event: NodeJS.Signals, listener: () => void): unknown;
  off(event: NodeJS.Signals, listener: () => void): unknown;
}

export interface ShutdownOptions {
  readonly logger: Logger;
  /** Once shutdown begins, the command has this long to finish before `exit(1)`. Omit for no limit. */
  readonly graceMs?: number | undefined;
  /** Ends the process without waiting (the composition root passes process.exit). */
  readonly exit: (code: number) => void;
  /** SIGHUP: reload, for the commands that serve models; without it SIGHUP is left alone. */
  readonly onHangup?: (() => void) | undefined;
}

/** Exit code of a command stopped by a signal (128 + SIGINT, the shell's convention), resumable where it applies. */
export const INTERRUPTED_EXIT_CODE = 130;

/**
 * The one signal handler of every long-running command (run, serve, backfill, replay, ledger). The first SIGTERM or
 * SIGINT begins shutdown: `signal` aborts, and the command stops at its next safe point (a drained worker, a
 * checkpointed chunk). A second signal exits at once with 130; a drain past `graceMs` exits with 1.
 */
export class ShutdownSignals {
  readonly #controller = new AbortController();
  readonly #source: SignalSource;
  readonly #options: ShutdownOptions;
  #reason: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #onSignal: Record<'SIGTERM' | 'SIGINT', () => void>;
  readonly #onHangup: (() => void) | undefined;

  constructor(source: SignalSource, options: ShutdownOptions) {
    this.#source = source;
    this.#options = options;
    this.#onSignal = { SIGTERM: () => this.#received('SIGTERM'), SIGINT: () => this.#received('SIGINT') };
    source.on('SIGTERM', this.#onSignal.SIGTERM);
    source.on('SIGINT', this.#onSignal.SIGINT);
    this.#onHangup = options.onHangup;
    if (this.#onHangup !== undefined) source.on('SIGHUP', this.#onHangup);
  }

  /** Aborts at the first SIGTERM/SIGINT (or `begin`). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Why shutdown began, once it has. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** Begins shutdown for a reason of the command's own (a failed worker): the same grace applies. */
  begin(reason: string): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#options.logger.info({ reason, graceMs: this.#options.graceMs }, 'shutting down');
    const graceMs = this.#options.graceMs;
    if (graceMs !== undefined) {
      this.#timer = setTimeout(() => {
        this.#options.logger.error({ graceMs }, 'shutdown did not finish within SHUTDOWN_GRACE_MS; forcing exit');
        this.#options.exit(1);
      }, graceMs);
      this.#timer.unref();
    }
    this.#controller.abort(new Error(reason));
  }

  /** Resolves when shutdown begins. */
  get begun(): Promise<string> {
    if (this.#reason !== undefined) return Promise.resolve(this.#reason);
    return new Promise((resolve) => this.signal.addEventListener('abort', () => resolve(this.#reason ?? 'aborted'), { once: true }));
  }

  /** Removes the handlers and the grace timer (the command finished). */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#source.off('SIGTERM', this.#onSignal.SIGTERM);
    this.#source.off('SIGINT', this.#onSignal.SIGINT);
    if (this.#onHangup !== undefined) this.#source.off('SIGHUP', this.#onHangup);
  }

  #received(signal: 'SIGTERM' | 'SIGINT'): void {
    if (this.#reason !== undefined) {
      this.#options.logger.error({ signal }, 'second signal: forcing exit');
      this.#options.exit(INTERRUPTED_EXIT_CODE);
      return;
    }
    this.begin(signal);
  }
}
