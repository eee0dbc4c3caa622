export { type BackfillOptions, type BackfillSummary, type Progress, runBackfill } from './job.js';
export { type Checkpoint, readCheckpoint, writeCheckpoint } from './checkpoint.js';
export { RejectsFile } from './rejects.js';
export { BackfillStatistics, type BacktestReport, type CompareReport, type OutputDistributions } from './statistics.js';
export { type FileFormat, type SourceSpec, fileFormat, readSource } from './sources.js';
export { type SinkFormat, type SinkSpec, openSink, sinkFormat } from './sinks.js';
export { brier, distribution, meanAbsoluteError, precisionAtK, rocAuc, spearman } from './evaluation.js';
