/**
 * Subpath entry `@ecgnn/infer/binary`: the binary conventions and their helpers only.
 * @module @ecgnn/infer/binary
 */
export {
  BITS_PER_WORD,
  foldBatchNormSign,
  foldSignByEvaluation,
  packConvWeights,
  packedDot,
  packSigns,
  popcount32,
  type SignThresholds,
  signBit,
  signValue,
  THRESHOLD_ALWAYS,
  THRESHOLD_NEVER,
  thresholdBit,
  unpackConvWeights,
  unpackSigns,
  wordsForChannels,
} from '@ecgnn/kernels';
