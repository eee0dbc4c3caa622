export { type CardFigures, cardFigures } from './card.js';
export { type EvaluatedPair, decodeEvaluated, encodeEvaluated, evaluatedPair } from './evaluated.js';
export { type ApplyResult, type Mode, OutcomeJoin } from './join.js';
export { type MonitorObserver, MonitorProcessor, type MonitorProcessorOptions, type MonitorTopics } from './processor.js';
export { type Read, outcomeSide, readOutcome, readPrediction } from './records.js';
export { type JoinRow, JoinStore, type OutcomeSide, type PredictionSide, type StoreCounts, type UnmatchedReason } from './store.js';
export { type LiveFigures, LiveWindow, type WindowBounds } from './window.js';
