import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ScorerError } from '../errors.js';

/** The prediction side of a join, as the scored topic carries it. */
export interface PredictionSide {
  readonly offset: number;
  readonly scoredAt: number;
  readonly detectedAt: number;
  readonly bundle: string;
  readonly version: string;
  readonly successProbability: number;
  readonly predictedProfitPercent: number;
  readonly predictedDurationHours: number;
  readonly rankScore: number;
  readonly take: boolean;
  /** Null for records written before the scored schema carried it. */
  readonly fundingDifferential: number | null;
}

/** The outcome side; `recordTime` is the outcome record's Kafka timestamp (when it arrived). */
export interface OutcomeSide {
  readonly offset: number;
  readonly recordTime: number;
  readonly closedAt: number;
  readonly realisedProfitPercent: number;
  readonly holdHours: number | null;
  readonly success: boolean;
  readonly modelVersion: string | null;
}

export interface JoinRow {
  readonly id: string;
  readonly partition: number;
  readonly prediction: PredictionSide | undefined;
  readonly outcome: OutcomeSide | undefined;
  /** Which record's processing publishes the pair ("s:<partition>:<offset>", "o:…"), or "evaluated" once it is known published. */
  readonly emittedBy: string | null;
  readonly expired: boolean;
}

export type UnmatchedReason = 'no_prediction' | 'prediction_expired' | 'pending_overflow' | 'duplicate_outcome';

export interface StoreCounts {
  /** Outcomes still waiting for their prediction (within the wait). */
  readonly waiting: number;
  readonly unmatched: Readonly<Record<UnmatchedReason, number>>;
  /** Predictions kept (joined or not). */
  readonly predictions: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS joins (
  id TEXT PRIMARY KEY,
  partition INTEGER NOT NULL,
  p_offset INTEGER, scored_at INTEGER, detected_at INTEGER, bundle TEXT, version TEXT,
  success_probability REAL, profit REAL, duration REAL, rank_score REAL, take INTEGER, differential REAL,
  o_offset INTEGER, o_time INTEGER, closed_at INTEGER, realised REAL, hold REAL, success INTEGER, o_version TEXT,
  emitted_by TEXT,
  expired INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS joins_waiting ON joins(partition, o_time) WHERE p_offset IS NULL AND o_offset IS NOT NULL;
CREATE INDEX IF NOT EXISTS joins_scored ON joins(scored_at) WHERE scored_at IS NOT NULL;
DROP INDEX IF EXISTS joins_emitted;
CREATE INDEX IF NOT EXISTS joins_emitted_by ON joins(emitted_by);
CREATE TABLE IF NOT EXISTS positions (topic TEXT NOT NULL, partition INTEGER NOT NULL, next INTEGER NOT NULL, PRIMARY KEY (topic, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS duplicates (partition INTEGER NOT NULL, o_offset INTEGER NOT NULL, id TEXT NOT NULL, PRIMARY KEY (partition, o_offset)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (partition INTEGER NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (partition, name)) WITHOUT ROWID;
`;

type Row = Record<string, number | string | null>;

/**
 * The monitor's join state in SQLite (node:sqlite, on disk, WAL): one row per opportunity id with either side,
 * the positions read per topic and partition, duplicate outcomes and counters. Rows live for the outcome window,
 * not in memory, so a million predictions cost disk, not heap. Everything here can be rebuilt from the topics.
 */
export class JoinStore {
  readonly #db: DatabaseSync;
  readonly #get: StatementSync;
  readonly #putPrediction: StatementSync;
  readonly #putOutcome: StatementSync;
  readonly #setEmitted: StatementSync;
  readonly #taggedTo: StatementSync;
  readonly #position: StatementSync;
  readonly #setPosition: StatementSync;
  readonly #addDuplicate: StatementSync;
  #closed = false;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      // Loaded when a store opens, not when this module does: node 22 warns on stderr that node:sqlite is
      // experimental as it loads, which only the monitor, its one user, should print.
      const { DatabaseSync: Database } = process.getBuiltinModule('node:sqlite');
      this.#db = new Database(path);
      this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
      this.#db.exec(SCHEMA);
    } catch (cause) {
      throw new ScorerError('CONFIG_INVALID', `cannot open the monitor store ${path}: ${(cause as Error).message} (MONITOR_STORE_PATH must be a writable file path)`, { cause });
    }
    this.#get = this.#db.prepare('SELECT * FROM joins WHERE id = ?');
    this.#putPrediction = this.#db.prepare(`INSERT INTO joins (id, partition, p_offset, scored_at, detected_at, bundle, version, success_probability, profit, duration, rank_score, take, differential)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET partition = excluded.partition, p_offset = excluded.p_offset, scored_at = excluded.scored_at, detected_at = excluded.detected_at,
        bundle = excluded.bundle, version = excluded.version, success_probability = excluded.success_probability, profit = excluded.profit, duration = excluded.duration,
        rank_score = excluded.rank_score, take = excluded.take, differential = excluded.differential`);
    this.#putOutcome = this.#db.prepare(`INSERT INTO joins (id, partition, o_offset, o_time, closed_at, realised, hold, success, o_version)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET partition = excluded.partition, o_offset = excluded.o_offset, o_time = excluded.o_time, closed_at = excluded.closed_at,
        realised = excluded.realised, hold = excluded.hold, success = excluded.success, o_version = excluded.o_version`);
    this.#setEmitted = this.#db.prepare('UPDATE joins SET emitted_by = ? WHERE id = ?');
    this.#taggedTo = this.#db.prepare('SELECT * FROM joins WHERE emitted_by = ?');
    this.#position = this.#db.prepare('SELECT next FROM positions WHERE topic = ? AND partition = ?');
    this.#setPosition = this.#db.prepare('INSERT INTO positions (topic, partition, next) VALUES (?, ?, ?) ON CONFLICT (topic, partition) DO UPDATE SET next = max(next, excluded.next)');
    this.#addDuplicate = this.#db.prepare('INSERT OR IGNORE INTO duplicates (partition, o_offset, id) VALUES (?, ?, ?)');
  }

  get(id: string): JoinRow | undefined {
    const row = this.#get.get(id) as Row | undefined;
    return row === undefined ? undefined : toJoinRow(row);
  }

  putPrediction(id: string, partition: number, p: PredictionSide): void {
    this.#putPrediction.run(id, partition, p.offset, p.scoredAt, p.detectedAt, p.bundle, p.version, p.successProbability, p.predictedProfitPercent, p.predictedDurationHours, p.rankScore, p.take ? 1 : 0, p.fundingDifferential);
  }

  putOutcome(id: string, partition: number, o: OutcomeSide): void {
    this.#putOutcome.run(id, partition, o.offset, o.recordTime, o.closedAt, o.realisedProfitPercent, o.holdHours, o.success ? 1 : 0, o.modelVersion);
  }

  setEmittedBy(id: string, tag: string): void {
    this.#setEmitted.run(tag, id);
  }

  /** Rows whose pair the record `tag` publishes. */
  taggedTo(tag: string): JoinRow[] {
    return (this.#taggedTo.all(tag) as Row[]).map(toJoinRow);
  }

  addDuplicate(partition: number, outcomeOffset: number, id: string): void {
    this.#addDuplicate.run(partition, outcomeOffset, id);
  }

  /** The next offset of `topic`/`partition` this store has applied (undefined: never read here). */
  position(topic: string, partition: number): number | undefined {
    const row = this.#position.get(topic, partition) as { next: number } | undefined;
    return row?.next;
  }

  advance(topic: string, partition: number, next: number): void {
    this.#setPosition.run(topic, partition, next);
  }

  /** Runs `work` in one SQLite transaction (a chunk's changes land together, and far faster than one by one). */
  transaction<T>(work: () => T): T {
    this.#db.exec('BEGIN');
    try {
      const result = work();
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  /**
   * Ages the window: published pairs whose prediction is older than `before` go; unpublished predictions that old
   * are marked expired (an outcome arriving for one is unmatched, reason prediction_expired) and go a window later,
   * with outcomes that never found a prediction.
   */
  expire(before: number, forgetBefore: number): void {
    this.transaction(() => {
      this.#db.prepare('DELETE FROM joins WHERE scored_at < ? AND emitted_by IS NOT NULL').run(before);
      this.#db.prepare('UPDATE joins SET expired = 1 WHERE scored_at < ? AND emitted_by IS NULL AND expired = 0').run(before);
      this.#db.prepare('DELETE FROM joins WHERE (expired = 1 AND scored_at < ?) OR (p_offset IS NULL AND o_time < ?)').run(forgetBefore, forgetBefore);
    });
  }

  /**
   * Keeps at most `max` waiting outcomes in `partition`: the oldest beyond it are dropped and counted
   * (pending_overflow). Returns how many were dropped.
   */
  boundWaiting(partition: number, max: number): number {
    const { n } = this.#db.prepare('SELECT count(*) AS n FROM joins WHERE partition = ? AND p_offset IS NULL AND o_offset IS NOT NULL').get(partition) as { n: number };
    if (n <= max) return 0;
    const excess = n - max;
    this.transaction(() => {
      this.#db
        .prepare('DELETE FROM joins WHERE id IN (SELECT id FROM joins WHERE partition = ? AND p_offset IS NULL AND o_offset IS NOT NULL ORDER BY o_time, id LIMIT ?)')
        .run(partition, excess);
      this.#db
        .prepare("INSERT INTO counters (partition, name, value) VALUES (?, 'pending_overflow', ?) ON CONFLICT (partition, name) DO UPDATE SET value = value + excluded.value")
        .run(partition, excess);
    });
    return excess;
  }

  /** Waiting and unmatched outcomes of `partitions`, as of `now` (an outcome waits `waitMs` for its prediction). */
  counts(partitions: readonly number[], now: number, waitMs: number): StoreCounts {
    const inList = partitions.length === 0 ? '(NULL)' : `(${partitions.map((p) => Math.trunc(p)).join(',')})`;
    const one = (sql: string, ...params: Array<number | string>): number => (this.#db.prepare(sql).get(...params) as { n: number | null }).n ?? 0;
    const cutoff = now - waitMs;
    return {
      waiting: one(`SELECT count(*) AS n FROM joins WHERE partition IN ${inList} AND p_offset IS NULL AND o_offset IS NOT NULL AND o_time >= ?`, cutoff),
      predictions: one(`SELECT count(*) AS n FROM joins WHERE partition IN ${inList} AND p_offset IS NOT NULL`),
      unmatched: {
        no_prediction: one(`SELECT count(*) AS n FROM joins WHERE partition IN ${inList} AND p_offset IS NULL AND o_offset IS NOT NULL AND o_time < ?`, cutoff),
        prediction_expired: one(`SELECT count(*) AS n FROM joins WHERE partition IN ${inList} AND expired = 1 AND o_offset IS NOT NULL AND emitted_by IS NULL`),
        pending_overflow: one(`SELECT sum(value) AS n FROM counters WHERE partition IN ${inList} AND name = 'pending_overflow'`),
        duplicate_outcome: one(`SELECT count(*) AS n FROM duplicates WHERE partition IN ${inList}`),
      },
    };
  }

  /** Unmatched outcomes of `partitions` with their reasons (for GET /outcomes/unmatched), at most `limit`. */
  unmatched(partitions: readonly number[], now: number, waitMs: number, limit: number): Array<{ id: string; reason: UnmatchedReason }> {
    const inList = partitions.length === 0 ? '(NULL)' : `(${partitions.map((p) => Math.trunc(p)).join(',')})`;
    const rows = this.#db
      .prepare(
        `SELECT id, 'no_prediction' AS reason FROM joins WHERE partition IN ${inList} AND p_offset IS NULL AND o_offset IS NOT NULL AND o_time < ?
         UNION ALL SELECT id, 'prediction_expired' FROM joins WHERE partition IN ${inList} AND expired = 1 AND o_offset IS NOT NULL AND emitted_by IS NULL
         UNION ALL SELECT id, 'duplicate_outcome' FROM duplicates WHERE partition IN ${inList}
         ORDER BY id LIMIT ?`,
      )
      .all(now - waitMs, limit) as Array<{ id: string; reason: UnmatchedReason }>;
    return rows.map((r) => ({ id: r.id, reason: r.reason }));
  }

  /** Bytes the database file takes (pages × page size). */
  sizeBytes(): number {
    const { n } = this.#db.prepare('SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()').get() as { n: number };
    return n;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}

function toJoinRow(r: Row): JoinRow {
  const num = (k: string): number => r[k] as number;
  return {
    id: r['id'] as string,
    partition: num('partition'),
    prediction:
      r['p_offset'] === null
        ? undefined
        : {
            offset: num('p_offset'),
            scoredAt: num('scored_at'),
            detectedAt: num('detected_at'),
            bundle: r['bundle'] as string,
            version: r['version'] as string,
            successProbability: num('success_probability'),
            predictedProfitPercent: num('profit'),
            predictedDurationHours: num('duration'),
            rankScore: num('rank_score'),
            take: r['take'] === 1,
            fundingDifferential: r['differential'] as number | null,
          },
    outcome:
      r['o_offset'] === null
        ? undefined
        : {
            offset: num('o_offset'),
            recordTime: num('o_time'),
            closedAt: num('closed_at'),
            realisedProfitPercent: num('realised'),
            holdHours: r['hold'] as number | null,
            success: r['success'] === 1,
            modelVersion: r['o_version'] as string | null,
          },
    emittedBy: r['emitted_by'] as string | null,
    expired: r['expired'] === 1,
  };
}
