import { ValueError } from '../errors.js';
import type { Kernels } from './kernels.js';

/**
 * A compute backend: a name and the kernels it implements. The CPU backend implements every kernel and is
 * the reference; any other backend (gpu.js, WebAssembly) may implement a subset — missing kernels fall back
 * to CPU, so user code never changes.
 */
export interface Backend {
  /** Backend name, e.g. 'cpu', 'wasm', 'gpu.js'. */
  readonly name: string;
  /** Kernels this backend implements. */
  readonly kernels: Partial<Kernels>;
}

const registry = new Map<string, Backend>();
// Backends created on first selection (e.g. WebAssembly, compiled only when asked for).
const factories = new Map<string, () => Backend | null>();
let cpuBackend: Backend & { kernels: Kernels };
let active: Backend;
// The resolved kernel table (active backend's kernels over CPU's), rebuilt on setBackend.
let resolved: Kernels;

/** @internal Registers the CPU reference backend (done once by backend/cpu.ts). */
export function _registerCpu(b: Backend & { kernels: Kernels }): void {
  cpuBackend = b;
  registry.set(b.name, b);
  active = b;
  resolved = { ...b.kernels };
}

/** Makes a backend available to {@link setBackend}. */
export function registerBackend(b: Backend): void {
  registry.set(b.name, b);
}

/**
 * Makes a backend available under `name`, created by `factory` the first time it is selected. The factory
 * returns null when the backend cannot run here (e.g. no WebAssembly SIMD); selecting it then throws.
 */
export function registerBackendFactory(name: string, factory: () => Backend | null): void {
  factories.set(name, factory);
}

/** Names of registered backends (created or not yet created). */
export function listBackends(): string[] {
  return [...new Set([...registry.keys(), ...factories.keys()])];
}

/** The backend named `name`, creating it from its factory if needed; null if unknown or unavailable here. */
export function findBackend(name: string): Backend | null {
  const existing = registry.get(name);
  if (existing) return existing;
  const factory = factories.get(name);
  if (!factory) return null;
  const created = factory();
  if (created) registry.set(name, created);
  return created;
}

/**
 * Selects the active backend by name (or object, registering it). Kernels it lacks fall back to CPU.
 * Returns the previously active backend's name.
 */
export function setBackend(b: string | Backend): string {
  const prev = active.name;
  const next = typeof b === 'string' ? findBackend(b) : b;
  if (next === null) {
    const why =
      typeof b === 'string' && factories.has(b) ? 'is not available on this platform' : 'is unknown';
    throw new ValueError(
      `setBackend: backend '${String(b)}' ${why}; registered: ${listBackends().join(', ')}`,
    );
  }
  registry.set(next.name, next);
  active = next;
  resolved = { ...cpuBackend.kernels, ...(next.kernels as Kernels) };
  return prev;
}

/** The active backend. */
export function getBackend(): Backend {
  return active;
}

/** The CPU reference backend. */
export function getCpuBackend(): Backend & { kernels: Kernels } {
  return cpuBackend;
}

/** The kernel table to call: the active backend's kernels, CPU for the rest. */
export function kernels(): Kernels {
  return resolved;
}

/** Runs `fn` with backend `b` active, restoring the previous one after. */
export function withBackend<T>(b: string | Backend, fn: () => T): T {
  const prev = setBackend(b);
  try {
    return fn();
  } finally {
    setBackend(prev);
  }
}
