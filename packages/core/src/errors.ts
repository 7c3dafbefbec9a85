/**
 * Error types of @ecgnn/core. Every error names the operation and the offending shapes or values,
 * so a user sees what was wrong at the call site, not a crash deep inside a kernel.
 */

/** Base class of all errors raised by ecgnn. */
export class EcgnnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes do not fit the operation (mismatch, broadcast failure, bad axis, negative size). */
export class ShapeError extends EcgnnError {}

/** A tensor has a dtype the operation does not accept, or two operands disagree. */
export class DTypeError extends EcgnnError {}

/** An argument value is invalid (e.g. zero kernel size, negative stride, probability outside [0, 1]). */
export class ValueError extends EcgnnError {}

/** Misuse of autograd: backward on a tensor without grad, a second backward through a freed graph. */
export class AutogradError extends EcgnnError {}

/** Formats a shape as `[2, 3, 4]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
