export { type BackfillOptions, type BackfillSummary, type BacktestReport, type CompareReport, type Progress, runBackfill } from './job.js';
export { type FileFormat, type SourceSpec, fileFormat, readSource } from './sources.js';
export { type SinkFormat, type SinkSpec, openSink, sinkFormat } from './sinks.js';
export { brier, distribution, meanAbsoluteError, precisionAtK, rocAuc, spearman } from './evaluation.js';
