export { type CoreOptions, type CoreResult, type Decoded, type Scored, type Screen, type StageTimer, describeProblems, scoreDecoded } from './core.js';
export { type ProcessedChunk, type ProcessorOptions, type StalePolicy, deadLetterRecord, processRecords } from './processor.js';
export { HEADER, type HeaderValue, type Headers, type OutRecord, type SourceRecord, carryHeaders, headerText } from './records.js';
