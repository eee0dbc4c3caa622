export { type FileRecord, type RecordFileFormat, isMissingFile, parseJsonlLine, readJsonlLines, readRecords, recordFileFormat } from './records.js';
export { csvField, csvFloat } from './csv.js';
