import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint, writeCheckpoint } from '../../../src/backfill/index.js';
import { findScorerError } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'checkpoint-'));

describe('backfill checkpoints', () => {
  it('round-trips, and no file means nothing to resume', async () => {
    const path = join(dir, 'ok.json');
    expect(await readCheckpoint(path)).toBeUndefined();
    const checkpoint = { rowsDone: 512, outputBytes: 1234, rejectsBytes: 0, scored: 510, rejected: 2 };
    await writeCheckpoint(path, checkpoint);
    expect(await readCheckpoint(path)).toEqual(checkpoint);
  });

  it.each([
    ['truncated', '{"rowsDone": 51', /is not JSON/],
    ['edited', JSON.stringify({ rowsDone: -1, outputBytes: 1, rejectsBytes: 0, scored: 0, rejected: 0 }), /rowsDone/],
    ['another file', JSON.stringify({ hello: 'world' }), /invalid/],
  ])('a %s checkpoint is CHECKPOINT_INVALID naming the file', async (name, text, problem) => {
    const path = join(dir, `${name.replace(' ', '-')}.json`);
    writeFileSync(path, text);
    const err = await readCheckpoint(path).then(() => undefined, (e: unknown) => e);
    expect(findScorerError(err)?.code).toBe('CHECKPOINT_INVALID');
    expect(String((err as Error).message)).toContain(path);
    expect(String((err as Error).message)).toMatch(problem);
  });
});
