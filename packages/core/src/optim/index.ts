/**
 * `optim`: optimizers (SGD, Adam, AdamW) with parameter groups and exact state save/restore, and
 * learning-rate schedules. Gradient clipping lives in `nn` (`nn.clipGradNorm`, `nn.clipGradValue`) and is
 * re-exported here.
 */
export { clipGradNorm, clipGradValue } from '../nn/utils.js';
export { Adam, type AdamOptions, AdamW } from './adam.js';
export {
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  ExponentialLR,
  LinearLR,
  LRScheduler,
  MultiStepLR,
  OneCycleLR,
  type OneCycleOptions,
  ReduceLROnPlateau,
  type ReduceLROnPlateauOptions,
  type SchedulerStateDict,
  SequentialLR,
  StepLR,
} from './lr-scheduler.js';
export {
  type BaseOptions,
  Optimizer,
  type OptimizerStateDict,
  OptimizerStateError,
  type ParamGroup,
  type ParamGroupInput,
  type ParamsInput,
  type StateValue,
} from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
