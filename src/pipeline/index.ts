export { type ProcessedChunk, type ProcessorOptions, type StalePolicy, deadLetterRecord, describeProblems, processRecords } from './processor.js';
export { HEADER, type HeaderValue, type Headers, type OutRecord, type SourceRecord, carryHeaders, headerText } from './records.js';
