// Subpath entry `@ecgnn/infer/binary`: the binary conventions and their helpers only.
export * from './conventions.js';
