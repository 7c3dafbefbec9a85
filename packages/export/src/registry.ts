/**
 * The emitter registry: module class → {@link Emitter}. Built in: every layer @ecgnn/infer runs (see
 * `emitters/`). A researcher adds a layer with {@link registerExporter}; lookups match the module's class
 * exactly (a subclass may compute something else, so it needs its own emitter).
 */
import type { nn } from '@ecgnn/core';
import type { Emitter, ModuleClass } from './context.js';
import { ATTENTION_EMITTERS } from './emitters/attention.js';
import { BINARY_EMITTERS } from './emitters/binary.js';
import { CONTAINER_EMITTERS } from './emitters/containers.js';
import { FLOAT_EMITTERS } from './emitters/float.js';

const registry = new Map<ModuleClass, Emitter>([
  ...FLOAT_EMITTERS,
  ...BINARY_EMITTERS,
  ...CONTAINER_EMITTERS,
  ...ATTENTION_EMITTERS,
]);

/**
 * Registers `emitter` for modules of class `moduleClass` (exactly that class), replacing any emitter registered
 * for it before (built-in ones included). Returns a function that restores the previous registration.
 *
 * @example
 * registerExporter(MyBlock, (ctx, block, [x], path) => {
 *   const y = ctx.emit(block.conv, [x], `${path}.conv`);
 *   return ctx.graph.node('relu', [y], `${path}.relu`);
 * });
 */
export function registerExporter<M extends nn.AnyModule>(
  moduleClass: ModuleClass<M>,
  emitter: Emitter<M>,
): () => void {
  if (typeof moduleClass !== 'function') throw new TypeError('registerExporter: moduleClass must be a class');
  if (typeof emitter !== 'function') throw new TypeError('registerExporter: emitter must be a function');
  const previous = registry.get(moduleClass);
  registry.set(moduleClass, emitter as Emitter);
  return () => {
    if (previous === undefined) registry.delete(moduleClass);
    else registry.set(moduleClass, previous);
  };
}

/** The emitter registered for `module`'s class, or undefined. */
export function exporterFor(module: nn.AnyModule): Emitter | undefined {
  return registry.get(module.constructor as ModuleClass);
}

/** The classes that currently have an emitter (built-in and registered). */
export function registeredClasses(): ModuleClass[] {
  return [...registry.keys()];
}
