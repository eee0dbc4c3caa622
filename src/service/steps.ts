import { type Lifecycle, type LifecycleView, type Step, runSteps } from '../lifecycle/index.js';

export type { Step };
import type { Logger } from '../logging/index.js';

/** The drain: readiness off first, then what `start` opened, in `order` (each only if it was opened). */
export function drainSteps(readinessOff: () => void, opened: readonly Step[], order: readonly string[]): Step[] {
  return [['readiness off', readinessOff], ...order.flatMap((name) => opened.filter(([n]) => n === name))];
}

/** After a failed start: the lifecycle goes failed → draining, what was opened closes newest first, → stopped. */
export async function rollBack(lifecycle: Lifecycle, log: Logger, opened: Step[], err: unknown): Promise<void> {
  log.error({ err, opened: opened.map(([name]) => name) }, 'start failed; closing what was opened');
  if (!lifecycle.is('failed')) lifecycle.to('failed', err instanceof Error ? err.message : String(err));
  lifecycle.to('draining');
  await runSteps([...opened].reverse(), log, 'closing after a failed start');
  lifecycle.to('stopped');
}

/** Resolves with the reason once the lifecycle has failed (at once if it has). */
export function failure(view: LifecycleView): Promise<string> {
  if (view.failure !== undefined) return Promise.resolve(view.failure);
  return new Promise((resolve) =>
    view.onChange((state) => {
      if (state === 'failed') resolve(view.failure ?? 'failed');
    }),
  );
}

/**
 * The close of a service: draining → every step → stopped, or failed when a step failed or the worker had failed
 * (its exit code must say so).
 */
export async function drain(lifecycle: Lifecycle, steps: readonly Step[], log: Logger, worker: LifecycleView | undefined): Promise<void> {
  lifecycle.to('draining');
  let failed = await runSteps(steps, log, 'shutdown');
  if (worker?.is('failed') === true && lifecycle.failure === undefined) failed = true;
  lifecycle.to(failed ? 'failed' : 'stopped', failed ? (worker?.failure ?? 'a shutdown step failed') : undefined);
}
