/** The kernel contract, defined in `@ecgnn/kernels` (re-exported for core's modules and users). */
export type {
  BinaryKernelOp,
  CompareKernelOp,
  Conv1dParams,
  FloatArray,
  KernelName,
  Kernels,
  MaxPool1dWindow,
  Pool1dParams,
  ReduceKernelOp,
  TypedArray,
  UnaryKernelOp,
} from '@ecgnn/kernels';
