export { type FileRecord, type RecordFileFormat, isMissingFile, readRecords, recordFileFormat } from './records.js';
export { csvField, csvFloat } from './csv.js';
