/**
 * @ecgnn/dsp: dependency-free signal processing shared by @ecgnn/infer (streaming classifier) and @ecgnn/data.
 * No Node APIs and no dependencies: this code runs in browsers.
 * @module @ecgnn/dsp
 */
export {
  type Biquad,
  butterworthBandpass,
  butterworthSections,
  DspError,
  medianFilter,
  removeBaselineWander,
  resample,
  sosFilterInPlace,
  zscore,
} from './filters.js';
export { detectQrs, QrsDetector, type QrsOptions } from './qrs.js';
export {
  isRrFeatureName,
  normalizeRr,
  RR_FEATURE_NAMES,
  RR_FEATURES,
  type RrFeatureName,
  rrFeatures,
} from './rr.js';
