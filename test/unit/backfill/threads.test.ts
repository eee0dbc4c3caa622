import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type BackfillOptions, ScoringThreads, runBackfill } from '../../../src/backfill/index.js';
import { createDecoder } from '../../../src/codec/index.js';
import { hasCode } from '../../../src/errors.js';
import { ScoringEngine } from '../../../src/inference/index.js';
import { loadReadyBundle } from '../../../src/registry/index.js';

const SAMPLE = fileURLToPath(new URL('../../../samples/opportunities.jsonl', import.meta.url));
const MODELS = fileURLToPath(new URL('../../../models/opportunity-scorer', import.meta.url));
const lines = readFileSync(SAMPLE, 'utf8').trim().split('\n').slice(0, 3000);

async function run(input: string, output: string, threads: number, shadow?: string, extra: Partial<BackfillOptions> = {}) {
  const primary = await loadReadyBundle(join(MODELS, '2.0.0'));
  const shadowBundle = shadow === undefined ? undefined : await loadReadyBundle(join(MODELS, shadow));
  const engine = new ScoringEngine({ primary, shadow: shadowBundle }, { maxSize: 256, maxDelayMs: 0, queueMax: 1024 });
  onTestFinished(async () => {
    await engine.close();
    await primary.close();
    await shadowBundle?.close();
  });
  const options: BackfillOptions = {
    source: { kind: 'file', path: input },
    sink: { kind: 'file', path: output },
    rejectsPath: `${output}.rejects.jsonl`,
    checkpointPath: `${output}.checkpoint.json`,
    engine,
    decoder: createDecoder('auto', undefined),
    chunkSize: 256,
    scoredAt: 'event',
    compare: shadow === undefined ? undefined : { threshold: 0.05, topK: 100 },
    threads: { count: threads, primaryDir: join(MODELS, '2.0.0'), shadowDir: shadow === undefined ? undefined : join(MODELS, shadow) },
    ...extra,
  };
  return runBackfill(options);
}

describe('backfill on scoring threads', () => {
  it('writes the same bytes, rejects and statistics as the main thread, shadow compare included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'threads-'));
    const input = join(dir, 'in.jsonl');
    // Bad rows among good ones, and a blank line (rows are counted the same way on both paths).
    writeFileSync(input, `${lines.slice(0, 1000).join('\n')}\n{"id": "x"\n\n{"symbol": "X"}\n${lines.slice(1000).join('\n')}\n`);
    const single = await run(input, join(dir, 'one.jsonl'), 1, '1.0.0');
    const parallel = await run(input, join(dir, 'two.jsonl'), 2, '1.0.0');
    expect(single.threads).toBe(1);
    expect(parallel.threads).toBe(2);
    expect(readFileSync(join(dir, 'two.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'one.jsonl'), 'utf8'));
    expect(readFileSync(join(dir, 'two.jsonl.rejects.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'one.jsonl.rejects.jsonl'), 'utf8'));
    const strip = (s: typeof single) => ({ ...s, durationSeconds: 0, rowsPerSecond: 0, threads: 0 });
    expect(strip(parallel)).toEqual(strip(single));
    expect(parallel).toMatchObject({ completed: true, rowsDone: 3003, scored: 3000, rejected: 2 });
    expect(parallel.compare?.rows).toBe(3000);
  });

  it('resumes an interrupted threaded run from its checkpoint to the bytes of an uninterrupted one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'threads-'));
    const input = join(dir, 'in.jsonl');
    // CRLF breaks and blank lines: the resumed reader must skip lines exactly as the first run counted them.
    writeFileSync(input, `${lines.slice(0, 1200).join('\r\n')}\r\n\r\n{"id": "x"\n${lines.slice(1200).join('\n')}`);
    await run(input, join(dir, 'once.jsonl'), 1);
    const abort = new AbortController();
    let chunks = 0;
    const first = await run(input, join(dir, 'part.jsonl'), 2, undefined, {
      signal: abort.signal,
      onProgress: () => {
        if (++chunks === 3) abort.abort();
      },
    });
    expect(first.completed).toBe(false);
    expect(first.rowsDone).toBeGreaterThanOrEqual(768);
    const second = await run(input, join(dir, 'part.jsonl'), 2, undefined, { resume: true });
    expect(second).toMatchObject({ completed: true, resumedFrom: first.rowsDone, rowsDone: 3002, scored: 3000, rejected: 1 });
    expect(readFileSync(join(dir, 'part.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'once.jsonl'), 'utf8'));
    expect(readFileSync(join(dir, 'part.jsonl.rejects.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'once.jsonl.rejects.jsonl'), 'utf8'));
  });

  it('a thread that cannot load its bundle fails the start with the reason (the other threads are closed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'threads-'));
    const started = ScoringThreads.start(2, { primaryDir: dir, chunkSize: 64, scoredAt: 'event' });
    await expect(started).rejects.toSatisfy((err: unknown) => hasCode(err, 'MODEL_LOAD_FAILED') && String((err as Error).message).includes('manifest.json'));
  });
});
