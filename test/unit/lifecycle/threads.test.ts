import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../fixtures/threads/start-heap-limit.ts', import.meta.url));

describe('startThread', () => {
  it('starts a compiled thread in a process run with V8 flags, which the thread inherits', () => {
    // `node --max-old-space-size=… bin/opportunity-scorer.js` puts the flag in process.execArgv; handing that to a
    // Worker failed with ERR_WORKER_INVALID_EXEC_ARGV, so neither the inference thread nor backfill's threads started.
    const run = spawnSync(process.execPath, ['--max-old-space-size=200', '--import', 'tsx', SCRIPT], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const reply = JSON.parse(run.stdout) as { heapLimitMiB: number; execArgv: string[] };
    expect(reply.execArgv).toContain('--max-old-space-size=200');
    // The flag reached the thread's heap: far below the default limit on this 24 GiB machine (over 2 GiB).
    expect(reply.heapLimitMiB).toBeLessThan(400);
  });
});
