/**
 * The CPU backend: `@ecgnn/kernels`' TypeScript reference kernels, every kernel of the contract. It is the
 * default backend and the fallback of every other one.
 */
import { referenceKernels } from '@ecgnn/kernels';
import { _registerCpu } from './backend.js';

/** The CPU reference backend: every kernel, in plain TypeScript over typed arrays. */
export const cpuBackend = { name: 'cpu', kernels: referenceKernels };
_registerCpu(cpuBackend);
