/** The interface each architecture implements to join the model registry. */
import type { ModelConfig } from './config.js';
import type { BuildOptions, EcgClassifier } from './pooled.js';

/**
 * One architecture of the registry: how to validate its config, count its parameters without building it,
 * and build it. Register new kinds (binary net, multi-scale, SNAIL, …) with `registerModel`.
 */
export interface ModelKind<C extends ModelConfig = ModelConfig> {
  /** The `kind` string of its configs. */
  readonly kind: C['kind'];
  /** One line describing the architecture. */
  readonly description: string;
  /**
   * Validates a config of this kind and returns it complete (every default filled in, fresh arrays), or
   * throws a `ModelConfigError` naming the bad field.
   */
  resolve(config: unknown): C;
  /** Trainable parameters of the model a resolved config builds (equals `numParameters()` of the model). */
  parameterCount(config: C): number;
  /** Weight layers (convolutions and linear layers, projection shortcuts included) of that model. */
  layerCount(config: C): number;
  /** Builds the model from a resolved config. */
  build(config: C, opts: BuildOptions): EcgClassifier<C>;
}
