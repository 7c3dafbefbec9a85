/**
 * TEMPORARY (kernel-layer migration in progress): kernels of the contract whose reference implementation is
 * being moved here from @ecgnn/core. Removed when every kernel has its implementation.
 */
export function notImplemented(name: string, ..._args: unknown[]): never {
  throw new Error(`@ecgnn/kernels: reference kernel ${name} is not implemented yet`);
}
