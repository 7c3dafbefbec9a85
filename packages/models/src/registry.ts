/**
 * The model registry: `kind` → architecture. `createModel(config)` rebuilds any registered model from its plain
 * JSON config (as stored in checkpoints and model metadata); `parameterCount(config)` counts its parameters
 * without building it. Later architectures (binary net, multi-scale, SNAIL) join with `registerModel`.
 */
import { type BeatNetConfig, beatNetKind } from './beatnet.js';
import { type BnnConfig, bnnKind } from './bnn.js';
import { type ModelConfig, ModelConfigError } from './config.js';
import type { ModelKind } from './kind.js';
import { type MobileNetConfig, mobileNetKind } from './mobilenet.js';
import { type MultiScaleConfig, multiScaleKind } from './multiscale.js';
import type { BuildOptions, EcgClassifier } from './pooled.js';
import { type ResNetTeacherConfig, resNetTeacherKind } from './resnet.js';
import { type StudentConfig, studentKind } from './student.js';

/** Configs of the built-in architectures. */
export type BuiltinModelConfig =
  | BeatNetConfig
  | ResNetTeacherConfig
  | StudentConfig
  | BnnConfig
  | MultiScaleConfig
  | MobileNetConfig;

const registry = new Map<string, ModelKind>([
  [beatNetKind.kind, beatNetKind as unknown as ModelKind],
  [resNetTeacherKind.kind, resNetTeacherKind as unknown as ModelKind],
  [studentKind.kind, studentKind as unknown as ModelKind],
  [bnnKind.kind, bnnKind as unknown as ModelKind],
  [multiScaleKind.kind, multiScaleKind as unknown as ModelKind],
  [mobileNetKind.kind, mobileNetKind as unknown as ModelKind],
]);

/**
 * Adds an architecture to the registry. Throws a {@link ModelConfigError} if the kind is already registered
 * (unless `replace`), so two packages cannot silently claim the same name.
 */
export function registerModel<C extends ModelConfig>(
  kind: ModelKind<C>,
  opts: { replace?: boolean } = {},
): void {
  if (typeof kind.kind !== 'string' || kind.kind === '') {
    throw new ModelConfigError('registerModel: kind must be a non-empty string');
  }
  if (registry.has(kind.kind) && !opts.replace) {
    throw new ModelConfigError(`registerModel: kind '${kind.kind}' is already registered`);
  }
  registry.set(kind.kind, kind as unknown as ModelKind);
}

/** The registered kinds, sorted. */
export function modelKinds(): string[] {
  return [...registry.keys()].sort();
}

/** The registry entry of `config.kind`; a {@link ModelConfigError} listing the known kinds otherwise. */
export function modelKind(config: unknown): ModelKind {
  const kind = (config as { kind?: unknown } | null)?.kind;
  const entry = typeof kind === 'string' ? registry.get(kind) : undefined;
  if (entry === undefined) {
    throw new ModelConfigError(
      `unknown model kind ${JSON.stringify(kind)} (registered: ${modelKinds().join(', ')})`,
    );
  }
  return entry;
}

/** Validates `config` and returns it complete, every default filled in (what `model.config` holds). */
export function resolveConfig(config: ModelConfig): ModelConfig {
  return modelKind(config).resolve(config);
}

/** Builds the model `config` describes (validated first; a {@link ModelConfigError} names a bad field). */
export function createModel(
  config: BuiltinModelConfig | ModelConfig,
  opts: BuildOptions = {},
): EcgClassifier {
  const kind = modelKind(config);
  return kind.build(kind.resolve(config), opts);
}

/** Trainable parameters of the model `config` builds, computed from the config alone. */
export function parameterCount(config: BuiltinModelConfig | ModelConfig): number {
  const kind = modelKind(config);
  return kind.parameterCount(kind.resolve(config));
}

/** Weight layers (convolutions and linear layers) of the model `config` builds. */
export function layerCount(config: BuiltinModelConfig | ModelConfig): number {
  const kind = modelKind(config);
  return kind.layerCount(kind.resolve(config));
}
