export { type BackfillOptions, type BackfillSummary, type Progress, type ThreadsOption, runBackfill } from './job.js';
export { ScoringThreads, autoThreads } from './threads.js';
export { type RowInput, type RowReject, type ScoredRows, scoreRows } from './score-rows.js';
export { type Checkpoint, readCheckpoint, writeCheckpoint } from './checkpoint.js';
export { RejectsFile } from './rejects.js';
export { BackfillStatistics, type BacktestReport, type CompareReport, type OutputDistributions, type StatChunk, StatPacker } from './statistics.js';
export { type FileFormat, type SourceSpec, fileFormat, readSource } from './sources.js';
export { type SinkFormat, type SinkSpec, jsonlText, openSink, sinkFormat } from './sinks.js';
export { brier, distribution, meanAbsoluteError, precisionAtK, rocAuc, spearman } from '../evaluation/index.js';
