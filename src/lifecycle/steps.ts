import type { Logger } from '../logging/index.js';

/** Something opened (by a service or a worker), and how to close it. */
export type Step = readonly [name: string, close: () => Promise<void> | void];

/** Runs the steps in order, each even when an earlier one failed; true when one failed (each is logged). */
export async function runSteps(steps: readonly Step[], log: Logger, what: string): Promise<boolean> {
  let failed = false;
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      failed = true;
      log.error({ err, step: name }, `${what} step failed`);
    }
  }
  return failed;
}

