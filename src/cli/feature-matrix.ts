import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { type Problem, validateOpportunity } from '../contract/index.js';
import { FEATURE_COUNT, FEATURE_HASH, FEATURE_NAMES, FEATURE_SPEC_VERSION, writeFeatures } from '../features/index.js';
import { csvField, csvFloat, readRecords } from '../files/index.js';

export interface FeatureMatrixOptions {
  readonly input: string;
  readonly output: string;
  readonly rejects: string;
  /** Extra input fields copied to the CSV after the features; defaults to every field whose name starts with "label". */
  readonly passThrough?: readonly string[] | undefined;
}

export interface FeatureMatrixSummary {
  readonly rows: number;
  readonly written: number;
  readonly rejected: number;
  readonly featureHash: string;
  readonly featureSpecVersion: number;
  readonly passThrough: readonly string[];
}

/**
 * The feature matrix of a file of opportunities: CSV with a header (`id`, every feature in spec order, then the
 * pass-through columns). Rows that fail to parse or validate go to `rejects` as JSON lines with their reasons.
 */
export async function writeFeatureMatrix(options: FeatureMatrixOptions): Promise<FeatureMatrixSummary> {
  const out = createWriteStream(options.output);
  const rejects = createWriteStream(options.rejects);
  const row = new Float32Array(FEATURE_COUNT);
  let passThrough = options.passThrough;
  let rows = 0;
  let written = 0;
  let rejected = 0;
  try {
    for await (const item of readRecords(options.input)) {
      rows++;
      let problems: readonly Problem[] | undefined;
      let id: unknown;
      if (!item.ok) {
        problems = [{ path: [], code: 'wrong_type', message: item.error.message }];
      } else {
        id = item.record.id;
        const result = validateOpportunity(item.record);
        if (result.ok) {
          if (passThrough === undefined) {
            passThrough = Object.keys(item.record).filter((k) => k.startsWith('label'));
          }
          if (written === 0) await write(out, `${['id', ...FEATURE_NAMES, ...passThrough].map(csvField).join(',')}\n`);
          writeFeatures(result.value, row);
          const cells: string[] = [csvField(result.value.id ?? `row-${item.row}`)];
          for (let i = 0; i < FEATURE_COUNT; i++) cells.push(csvFloat(row[i] ?? Number.NaN));
          for (const name of passThrough) cells.push(csvField(cellText(item.record[name])));
          await write(out, `${cells.join(',')}\n`);
          written++;
          continue;
        }
        problems = result.problems;
      }
      rejected++;
      await write(rejects, `${JSON.stringify({ row: item.row, id: typeof id === 'string' ? id : null, problems })}\n`);
    }
    if (written === 0) await write(out, `${['id', ...FEATURE_NAMES, ...(passThrough ?? [])].map(csvField).join(',')}\n`);
  } finally {
    out.end();
    rejects.end();
    await Promise.all([finished(out), finished(rejects)]);
  }
  return { rows, written, rejected, featureHash: FEATURE_HASH, featureSpecVersion: FEATURE_SPEC_VERSION, passThrough: passThrough ?? [] };
}

function cellText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number') return Number.isNaN(v) ? '' : String(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? '1' : '0';
  return JSON.stringify(v);
}

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}
