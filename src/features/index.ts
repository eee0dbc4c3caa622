export {
  BREAK_EVEN_CAP_HOURS,
  EXCHANGE_VOCABULARY,
  FEATURES,
  FEATURE_COUNT,
  FEATURE_HASH,
  FEATURE_INDEX,
  FEATURE_NAMES,
  FEATURE_SPEC_VERSION,
  OPTIONAL_INPUT_FEATURES,
  ROUND_TRIP_FEES_PERCENT,
  renderFeatureDoc,
  type FeatureDef,
} from './spec.js';
export { writeFeatures } from './compute.js';
