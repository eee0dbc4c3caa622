import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { writeFeatureMatrix } from '../../../src/cli/feature-matrix.js';
import { opportunitySchema } from '../../../src/contract/index.js';
import { FEATURE_COUNT, FEATURE_NAMES, writeFeatures } from '../../../src/features/index.js';
import * as fixtures from '../../fixtures/opportunities.js';
import { avroRecord, jsonEvent } from '../../helpers/events.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'features-'));

function csvRows(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
}

describe('writeFeatureMatrix', () => {
  it('writes id, every feature in spec order and label columns; invalid rows go to the reject file', async () => {
    const d = dir();
    const input = join(d, 'in.jsonl');
    const lines = [
      JSON.stringify({ ...jsonEvent(fixtures.referenceExample), labelProfitPercent: 0.12, labelSuccess: true }),
      '{ not json',
      '',
      JSON.stringify({ ...jsonEvent(fixtures.hourlyVsEightHour), labelProfitPercent: -0.3, labelSuccess: false }),
      JSON.stringify({ id: 'bad-1', symbol: 'BTCUSDT' }),
    ];
    writeFileSync(input, `${lines.join('\n')}\n`);
    const summary = await writeFeatureMatrix({ input, output: join(d, 'out.csv'), rejects: join(d, 'rejects.jsonl') });
    expect(summary).toMatchObject({ rows: 4, written: 2, rejected: 2, passThrough: ['labelProfitPercent', 'labelSuccess'] });

    const [header, first, second] = csvRows(join(d, 'out.csv'));
    expect(header).toEqual(['id', ...FEATURE_NAMES, 'labelProfitPercent', 'labelSuccess']);
    const expected = new Float32Array(FEATURE_COUNT);
    writeFeatures(fixtures.referenceExample, expected);
    // Each printed value reads back to exactly the float32 the engine computes; NaN is an empty field.
    expect(first?.slice(1, 1 + FEATURE_COUNT).map((v) => (v === '' ? Number.NaN : Math.fround(Number(v))))).toEqual([...expected]);
    expect(first?.[0]).toBe('fixture');
    expect(first?.slice(-2)).toEqual(['0.12', '1']);
    expect(second?.slice(-2)).toEqual(['-0.3', '0']);

    const rejects = readFileSync(join(d, 'rejects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { row: number; id: string | null; problems: Array<{ path: string[]; code: string }> });
    expect(rejects.map((r) => [r.row, r.id])).toEqual([
      [2, null],
      [5, 'bad-1'],
    ]);
    expect(rejects[1]?.problems.map((p) => p.path[0])).toContain('fundApr');
  });

  it('reads Avro object container files', async () => {
    const d = dir();
    const input = join(d, 'in.avro');
    const encoder = avro.createFileEncoder(input, opportunitySchema);
    for (const op of [fixtures.negativeCarry, fixtures.shortSettlesFirst]) encoder.write(avroRecord(op));
    await new Promise<void>((resolve, reject) => {
      encoder.on('error', reject);
      encoder.end(() => setTimeout(resolve, 50));
    });
    const summary = await writeFeatureMatrix({ input, output: join(d, 'out.csv'), rejects: join(d, 'rejects.jsonl') });
    expect(summary).toMatchObject({ rows: 2, written: 2, rejected: 0 });
    expect(csvRows(join(d, 'out.csv')).map((r) => r[0])).toEqual(['id', 'negative', 'short-first']);
  });
});
