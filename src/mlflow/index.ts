export { type ArtifactFile, MlflowClient, type MlflowSettings, type ModelVersion, type RunInfo, proxiedPath } from './client.js';
export { type CachedBundle, MlflowBundleCache } from './cache.js';
export { BUNDLE_ARTIFACT_PATH, type PushOptions, type PushReport, cardMetrics, pushBundle } from './push.js';
export { MODEL_REF_FORMS, type MlflowRef, isMlflowRef, parseMlflowRef } from './refs.js';
