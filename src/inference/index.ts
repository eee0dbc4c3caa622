export {
  DEFAULT_SESSION_SETTINGS,
  ModelBundle,
  compareRows,
  readBundleInfo,
  verifyBundleFiles,
  type BundleInfo,
  type ModelCard,
  readRowsFile,
  type ComparedOutput,
  type Predictions,
  type RawOutputs,
  type SelfCheckReport,
  type SessionSettings,
} from './bundle.js';
export {
  DEFAULT_DECISION,
  MODEL_NAMES,
  RANK_SCORES,
  type BundleManifest,
  type Calibration,
  type Decision,
  type ModelName,
  type RankScoreName,
  type RowsFile,
  bundleManifestSchema,
  decodeFloat32,
} from './manifest.js';
export { calibrate, calibrateAll } from './calibration.js';
export { decide } from './decision.js';
export {
  ScoreRequest,
  ScoringEngine,
  abBucket,
  type BundleScore,
  type EngineItem,
  type EngineObserver,
  type ModelStamp,
  type Routing,
  type ScoreOutcome,
} from './engine.js';
