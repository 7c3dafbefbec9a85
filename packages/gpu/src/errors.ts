/**
 * Errors of `@ecgnn/gpu`. They extend `@ecgnn/core`'s {@link ValueError}, so callers that catch core's
 * errors catch these too.
 */
import { ValueError } from '@ecgnn/core';

/** The gpu.js backend cannot be created or used as asked (unknown mode, mode not available here). */
export class GpuBackendError extends ValueError {}

/**
 * gpu.js built (or switched to) a kernel of another class than the mode that was selected: gpu.js falls back
 * between modes silently (e.g. from `webasm` to `cpu` when a kernel does not compile), so every call checks the
 * class of the kernel that actually ran.
 */
export class GpuKernelClassError extends GpuBackendError {}
