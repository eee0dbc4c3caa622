export { type FileRecord, type RecordFileFormat, readRecords, recordFileFormat } from './records.js';
export { csvField, csvFloat } from './csv.js';
