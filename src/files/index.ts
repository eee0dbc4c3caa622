export { type FileRecord, type RecordFileFormat, isMissingFile, parseJsonlLine, readJsonlLines, readRecords, recordFileFormat } from './records.js';
export { csvField, csvFloat } from './csv.js';
export { type LineChunk, chunkRows, readLineChunks } from './lines.js';
