import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type BackfillOptions, runBackfill } from '../../../src/backfill/index.js';
import { createDecoder } from '../../../src/codec/index.js';
import { opportunitySchema } from '../../../src/contract/index.js';
import { ScoringEngine } from '../../../src/inference/index.js';
import { loadReadyBundle } from '../../../src/registry/index.js';

const SAMPLE = fileURLToPath(new URL('../../../samples/opportunities.jsonl', import.meta.url));
const MODELS = fileURLToPath(new URL('../../../models/opportunity-scorer', import.meta.url));
const BIN = fileURLToPath(new URL('../../../src/cli/bin.ts', import.meta.url));
const lines = readFileSync(SAMPLE, 'utf8').trim().split('\n').slice(0, 1500);
const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);

async function engine(versions: { primary: string; shadow?: string }): Promise<ScoringEngine> {
  const primary = await loadReadyBundle(join(MODELS, versions.primary));
  const shadow = versions.shadow === undefined ? undefined : await loadReadyBundle(join(MODELS, versions.shadow));
  const e = new ScoringEngine({ primary, shadow }, { maxSize: 256, maxDelayMs: 0, queueMax: 1024 });
  onTestFinished(async () => {
    await e.close();
    await primary.close();
    await shadow?.close();
  });
  return e;
}

async function backfill(input: string, output: string, extra: Partial<BackfillOptions> = {}) {
  return runBackfill({
    source: { kind: 'file', path: input },
    sink: { kind: 'file', path: output },
    rejectsPath: `${output}.rejects.jsonl`,
    checkpointPath: `${output}.checkpoint.json`,
    engine: extra.engine ?? (await engine({ primary: '1.0.0' })),
    decoder: createDecoder('auto', undefined),
    chunkSize: 256,
    scoredAt: 'event',
    ...extra,
  });
}

function inputs(dir: string): { jsonl: string; json: string; csv: string } {
  const jsonl = join(dir, 'in.jsonl');
  writeFileSync(jsonl, `${lines.join('\n')}\n`);
  const json = join(dir, 'in.json');
  writeFileSync(json, JSON.stringify(events));
  const csv = join(dir, 'in.csv');
  writeFileSync(csv, stringify(events, { header: true, columns: Object.keys(events[0] ?? {}) }));
  return { jsonl, json, csv };
}

async function avroInput(dir: string): Promise<string> {
  const path = join(dir, 'in.avro');
  const encoder = avro.createFileEncoder(path, opportunitySchema);
  for (const e of events) encoder.write(e);
  await new Promise<void>((resolve) => encoder.end(() => setTimeout(resolve, 50)));
  return path;
}

describe('backfill', () => {
  it('gives the same results from JSONL, JSON array, CSV and Avro inputs, and the same bytes twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backfill-'));
    const sources = { ...inputs(dir), avro: await avroInput(dir) };
    const outputs: string[] = [];
    for (const [name, path] of Object.entries(sources)) {
      const summary = await backfill(path, join(dir, `out-${name}.jsonl`));
      expect(summary, name).toMatchObject({ completed: true, rowsDone: 1500, scored: 1500, rejected: 0 });
      outputs.push(readFileSync(join(dir, `out-${name}.jsonl`), 'utf8'));
    }
    expect(new Set(outputs).size).toBe(1);
    await backfill(sources.jsonl, join(dir, 'again.jsonl'));
    expect(readFileSync(join(dir, 'again.jsonl'), 'utf8')).toBe(outputs[0]);
  });

  it('writes CSV and Avro outputs deterministically, with the same results as JSONL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backfill-'));
    const { jsonl } = inputs(dir);
    await backfill(jsonl, join(dir, 'a.jsonl'));
    const expected = readFileSync(join(dir, 'a.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; compositeScore: number });
    for (const ext of ['csv', 'avro']) {
      await backfill(jsonl, join(dir, `1.${ext}`));
      await backfill(jsonl, join(dir, `2.${ext}`));
      expect(readFileSync(join(dir, `1.${ext}`)).equals(readFileSync(join(dir, `2.${ext}`))), ext).toBe(true);
    }
    const csvRows = readFileSync(join(dir, '1.csv'), 'utf8').trim().split('\n');
    expect(csvRows[0]).toBe('id,symbol,longExchange,shortExchange,detectedAt,predictedProfitPercent,successProbability,predictedDurationHours,compositeScore,rankScore,take,modelBundle,modelVersion,scoredAt,sourceTopic,sourcePartition,sourceOffset');
    expect(csvRows).toHaveLength(1501);
    const decoded: Array<{ id: string; compositeScore: number }> = [];
    await new Promise<void>((resolve, reject) =>
      avro
        .createFileDecoder(join(dir, '1.avro'))
        .on('data', (r: { id: string; compositeScore: number }) => decoded.push(r))
        .on('end', resolve)
        .on('error', reject),
    );
    expect(decoded.map((r) => [r.id, r.compositeScore])).toEqual(expected.map((r) => [r.id, r.compositeScore]));
  });

  it('resumes after an interrupt to exactly the output of an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backfill-'));
    const { jsonl } = inputs(dir);
    await backfill(jsonl, join(dir, 'full.jsonl'));
    const abort = new AbortController();
    let chunks = 0;
    const first = await backfill(jsonl, join(dir, 'part.jsonl'), {
      signal: abort.signal,
      onProgress: () => {
        if (++chunks === 2) abort.abort();
      },
    });
    expect(first).toMatchObject({ completed: false, rowsDone: 512 });
    expect(readFileSync(join(dir, 'part.jsonl'), 'utf8').trim().split('\n')).toHaveLength(512);
    const second = await backfill(jsonl, join(dir, 'part.jsonl'), { resume: true });
    expect(second).toMatchObject({ completed: true, resumedFrom: 512, rowsDone: 1500, scored: 1500 });
    expect(readFileSync(join(dir, 'part.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'full.jsonl'), 'utf8'));
  });

  it('puts invalid rows in the reject file with reasons', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backfill-'));
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, `${lines.slice(0, 10).join('\n')}\n{"id":"bad","symbol":"X"}\nnot json\n`);
    const summary = await backfill(input, join(dir, 'out.jsonl'));
    expect(summary).toMatchObject({ scored: 10, rejected: 2 });
    const rejects = readFileSync(join(dir, 'out.jsonl.rejects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { row: number; id: string | null; reason: string });
    expect(rejects.map((r) => [r.row, r.id])).toEqual([
      [11, 'bad'],
      [12, null],
    ]);
    expect(rejects[0]?.reason).toContain('longExchange: missing');
  });

  it('backtests against the labels and compares two real bundles', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backfill-'));
    const { jsonl } = inputs(dir);
    const summary = await backfill(jsonl, join(dir, 'cmp.jsonl'), {
      engine: await engine({ primary: '1.0.0', shadow: '1.1.0' }),
      compare: { threshold: 0, topK: 100 },
      backtestTopK: 100,
    });
    expect(summary.backtest?.rows).toBe(1500);
    expect(summary.backtest?.model.rocAuc).toBeGreaterThan(0.5);
    expect(summary.compare).toMatchObject({ rows: 1500, a: 'opportunity-scorer@1.0.0', b: 'opportunity-scorer@1.1.0', topK: { k: 100 } });
    const profit = summary.compare?.outputs.predictedProfitPercent;
    expect(profit?.meanAbsDelta).toBeGreaterThan(0);
    expect(profit?.maxAbsDelta).toBeGreaterThanOrEqual(profit?.meanAbsDelta ?? 0);
    expect(profit?.rankCorrelation).toBeGreaterThan(0.5);
    // The output holds model A's results only.
    expect(readFileSync(join(dir, 'cmp.jsonl'), 'utf8')).not.toContain('"1.1.0"');
  });

  it('the command exits 3 when rejects exceed --max-reject-ratio, 0 otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'backfill-'));
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, `${lines.slice(0, 18).join('\n')}\n{"symbol":"X"}\n{"symbol":"Y"}\n`);
    const run = (ratio: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', BIN, 'backfill', '--input', input, '--output', join(dir, `o-${ratio}.csv`), '--max-reject-ratio', ratio, '--progress', 'none'], {
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' },
        encoding: 'utf8',
      });
    const strict = run('0.05');
    expect(strict.status, strict.stderr).toBe(3);
    expect(strict.stderr).toContain('exceed --max-reject-ratio');
    expect(run('0.2').status).toBe(0);
  });

  it('SIGTERM stops the command after the current chunk: exit 130, a resumable checkpoint, and --resume completes it exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backfill-'));
    const input = join(dir, 'in.jsonl');
    // 20,000 rows in chunks of 4: every chunk writes its results and a checkpoint, so the run lasts seconds.
    const all = Array.from({ length: 4 }, (_, round) => lines.map((l) => l.replace(/"id":"([^"]+)"/, `"id":"$1#${round}"`))).flat();
    writeFileSync(input, `${all.join('\n')}\n`);
    const output = join(dir, 'out.jsonl');
    const cli = (out: string, ...more: string[]): string[] => ['--import', 'tsx', BIN, 'backfill', '--input', input, '--output', out, '--progress', 'none', ...more];
    const env = { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' };
    const child = spawn(process.execPath, cli(output, '--chunk-size', '4'), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const checkpoint = `${output}.checkpoint.json`;
    for (let i = 0; i < 600 && !existsSync(checkpoint); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(existsSync(checkpoint), stderr).toBe(true);
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(130);
    expect(stderr).toContain('--resume');
    const saved = JSON.parse(readFileSync(checkpoint, 'utf8')) as { rowsDone: number };
    expect(saved.rowsDone).toBeGreaterThan(0);
    expect(saved.rowsDone).toBeLessThan(all.length);
    expect(saved.rowsDone % 4).toBe(0); // stopped at a chunk boundary
    expect(readFileSync(output, 'utf8').trim().split('\n')).toHaveLength(saved.rowsDone);

    const resumed = spawnSync(process.execPath, cli(output, '--resume'), { env, encoding: 'utf8' });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ completed: true, resumedFrom: saved.rowsDone, rowsDone: all.length, scored: all.length });
    const once = spawnSync(process.execPath, cli(join(dir, 'once.jsonl')), { env, encoding: 'utf8' });
    expect(once.status, once.stderr).toBe(0);
    expect(readFileSync(output, 'utf8')).toBe(readFileSync(join(dir, 'once.jsonl'), 'utf8'));
  }, 120_000);

  it('--resume with a corrupt checkpoint is an error naming the file, and touches no output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'backfill-'));
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, `${lines.slice(0, 10).join('\n')}\n`);
    const output = join(dir, 'out.jsonl');
    writeFileSync(output, 'partial\n');
    writeFileSync(`${output}.checkpoint.json`, '{"rowsDone": 5, "outputB');
    const run = spawnSync(process.execPath, ['--import', 'tsx', BIN, 'backfill', '--input', input, '--output', output, '--resume', '--progress', 'none'], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('[CHECKPOINT_INVALID]');
    expect(run.stderr).toContain(`${output}.checkpoint.json`);
    expect(readFileSync(output, 'utf8')).toBe('partial\n');
  });

  it('names every bad numeric option at once (exit 2)', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', BIN, 'backfill', '--input', SAMPLE, '--output', join(tmpdir(), 'never.jsonl'), '--chunk-size', 'lots', '--top-k', '0', '--max-reject-ratio', 'x'], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    for (const option of ['--chunk-size', '--top-k', '--max-reject-ratio']) expect(run.stderr).toContain(option);
  });
});
