import { describe, expect, it } from 'vitest';
import { hasCode } from '../../../src/errors.js';
import { FEATURE_COUNT } from '../../../src/features/index.js';
import { DEFAULT_SESSION_SETTINGS, ThreadRunner } from '../../../src/inference/sessions.js';

const DYING = new URL('../../fixtures/dying-session-thread.mjs', import.meta.url);
// The stand-in thread opens no sessions, so it needs no model files.
const init = { manifest: {} as never, files: {} as never, settings: { ...DEFAULT_SESSION_SETTINGS, thread: true } };

describe('ThreadRunner', () => {
  it('fails the batches a dying thread held with INFERENCE_FAILED, and the next run starts a new thread', async () => {
    const runner = await ThreadRunner.start(init, DYING);
    try {
      const rows = new Float32Array(2 * FEATURE_COUNT);
      expect((await runner.run(rows, 2)).profit).toEqual(new Float32Array(2));
      const poison = rows.slice();
      poison[0] = 13;
      const [dead, alsoDead] = await Promise.allSettled([runner.run(poison, 2), runner.run(rows, 1)]);
      for (const r of [dead, alsoDead]) {
        expect(r.status).toBe('rejected');
        expect(hasCode((r as PromiseRejectedResult).reason, 'INFERENCE_FAILED')).toBe(true);
      }
      expect(String((dead as PromiseRejectedResult).reason)).toContain('exited (code 3)');
      expect((await runner.run(rows, 1)).success).toEqual(new Float32Array(1));
      // The caller's rows were copied, not moved.
      expect(rows.length).toBe(2 * FEATURE_COUNT);
    } finally {
      await runner.close();
      await runner.close();
    }
    await expect(runner.run(new Float32Array(FEATURE_COUNT), 1)).rejects.toSatisfy((err: unknown) => hasCode(err, 'INTERNAL'));
  });
});
