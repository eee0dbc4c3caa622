export {
  DEFAULT_SESSION_SETTINGS,
  ModelBundle,
  compareRows,
  readRowsFile,
  type Predictions,
  type RawOutputs,
  type SelfCheckReport,
  type SessionSettings,
} from './bundle.js';
export { MODEL_NAMES, type BundleManifest, type ModelName, type RowsFile, bundleManifestSchema, decodeFloat32 } from './manifest.js';
export { ScoringEngine, abBucket, type BundleScore, type EngineObserver, type ModelStamp, type Routing, type ScoreOutcome } from './engine.js';
