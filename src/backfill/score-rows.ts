import { type ScoredOpportunity, type SourcePosition, deriveEventId, scoredOpportunity } from '../contract/index.js';
import type { ScoringEngine } from '../inference/index.js';
import { type Decoded, scoreDecoded } from '../pipeline/index.js';
import { type StatChunk, StatPacker } from './statistics.js';

/** One input row as the scoring core takes it. */
export interface RowInput {
  readonly row: number;
  readonly decoded: Decoded;
  readonly position?: SourcePosition | undefined;
}

/** A row left out, with the reason (a line of the reject file). */
export interface RowReject {
  readonly row: number;
  readonly id: unknown;
  readonly position?: SourcePosition | undefined;
  readonly reason: string;
}

/**
 * A chunk's results: the outputs in input order (as records, or already encoded when an encoder was given: a scoring
 * thread then sends bytes, not objects), their numbers for the statistics, and the rows left out.
 */
export interface ScoredRows {
  readonly lastRow: number;
  readonly scored: ScoredOpportunity[];
  readonly encoded?: Uint8Array | undefined;
  readonly stats: StatChunk;
  readonly rejects: RowReject[];
}

/**
 * A chunk of backfill rows through the scoring core: the same code on the main thread and in scoring threads, so
 * the output does not depend on where a chunk ran. `scoredAt` `event` stamps each result with its detectedAt.
 */
export async function scoreRows(rows: readonly RowInput[], engine: ScoringEngine, scoredAt: 'event' | number, encode?: (records: readonly ScoredOpportunity[]) => string): Promise<ScoredRows> {
  const results = await scoreDecoded(
    rows.map((r) => r.decoded),
    {
      engine,
      fallbackId: (i) => {
        const row = rows[i] as RowInput;
        return row.position ? deriveEventId(row.position.topic, row.position.partition, row.position.offset) : `row-${row.row}`;
      },
    },
  );
  const scored: ScoredOpportunity[] = [];
  const rejects: RowReject[] = [];
  const stats = new StatPacker(rows.length);
  results.forEach((result, i) => {
    const row = rows[i] as RowInput;
    if (result.kind !== 'scored') {
      rejects.push({ row: row.row, id: result.kind === 'rejected' ? result.id : undefined, position: row.position, reason: result.message });
      return;
    }
    const { opportunity, outcome } = result;
    const at = scoredAt === 'event' ? opportunity.detectedAt : scoredAt;
    const s = scoredOpportunity(opportunity, outcome.scores, outcome.verdict, outcome.model, at, row.position ?? null);
    scored.push(s);
    stats.push(s, opportunity, result.record, outcome);
  });
  const lastRow = rows[rows.length - 1]?.row ?? 0;
  if (encode === undefined) return { lastRow, scored, stats: stats.finish(), rejects };
  return { lastRow, scored: [], encoded: new TextEncoder().encode(encode(scored)), stats: stats.finish(), rejects };
}
