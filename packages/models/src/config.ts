/**
 * What every model config shares, the config error type, and the field checks the model kinds use to
 * validate a config and fill its defaults. A config is plain JSON: numbers, strings, arrays and objects only,
 * so it can be stored in checkpoints and in exported model metadata and rebuilt by `createModel`.
 */
import { EcgnnError } from '@ecgnn/core';

/** Raised for an invalid model config; the message names the model kind, the field and the bad value. */
export class ModelConfigError extends EcgnnError {}

/** Any model config: a `kind` naming the architecture, then that kind's fields. */
export interface ModelConfig {
  /** Architecture name, a key of the model registry (`'beatnet'`, `'resnet-teacher'`, `'student'`, …). */
  kind: string;
}

/**
 * Inputs and outputs of the classifiers here: a waveform window `[N, inChannels, length]` and, when
 * `rrFeatures` > 0, a vector of RR features `[N, rrFeatures]` per sample; logits `[N, classes]` out.
 */
export interface ClassifierIO {
  /** Channels (leads) of the waveform window (default 1). */
  inChannels?: number;
  /** Samples per window. */
  length: number;
  /** RR features per sample joined to the pooled waveform features (0: waveform only). */
  rrFeatures: number;
  /** Output classes. */
  classes: number;
}

/** {@link ClassifierIO} with its defaults filled. */
export type ResolvedIO = Required<ClassifierIO>;

/** Validates the config fields of one model kind and reports the first bad one. */
export class ConfigReader {
  /** The config being read (as an untyped record). */
  private readonly fields: Record<string, unknown>;

  /**
   * Reads `config` of model kind `kind`; throws a {@link ModelConfigError} if it is not an object, its
   * `kind` differs, or it has a field not in `allowed` (a misspelt option must not be silently ignored).
   */
  constructor(
    readonly kind: string,
    config: unknown,
    allowed: readonly string[],
  ) {
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new ModelConfigError(`${kind}: config must be an object, got ${JSON.stringify(config)}`);
    }
    this.fields = config as Record<string, unknown>;
    if (this.fields.kind !== kind) {
      throw new ModelConfigError(`${kind}: config.kind is ${JSON.stringify(this.fields.kind)}`);
    }
    for (const key of Object.keys(this.fields)) {
      if (key !== 'kind' && !allowed.includes(key)) {
        throw new ModelConfigError(
          `${kind}: unknown config field '${key}' (allowed: ${allowed.map((a) => `'${a}'`).join(', ')})`,
        );
      }
    }
  }

  private fail(field: string, what: string, v: unknown): never {
    throw new ModelConfigError(`${this.kind}: ${field} must be ${what}, got ${JSON.stringify(v)}`);
  }

  /** An integer ≥ `min` (default 1), or `fallback` when absent (required when `fallback` is undefined). */
  int(field: string, fallback?: number, min = 1): number {
    const v = this.fields[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      this.fail(field, `an integer ≥ ${min}`, this.fields[field]);
    }
    return v;
  }

  /** A probability in [0, 1), or `fallback` when absent. */
  probability(field: string, fallback: number): number {
    const v = this.fields[field] ?? fallback;
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) this.fail(field, 'a number in [0, 1)', v);
    return v;
  }

  /** A boolean, or `fallback` when absent. */
  bool(field: string, fallback: boolean): boolean {
    const v = this.fields[field] ?? fallback;
    if (typeof v !== 'boolean') this.fail(field, 'a boolean', v);
    return v;
  }

  /** A non-empty array of integers ≥ `min`, or a copy of `fallback` when absent. */
  intArray(field: string, fallback: readonly number[], min = 1): number[] {
    const v = this.fields[field] ?? fallback;
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => !Number.isInteger(x) || x < min)) {
      this.fail(field, `a non-empty array of integers ≥ ${min}`, v);
    }
    return [...(v as number[])];
  }

  /** The raw value of a field (for nested structures the kind validates itself). */
  raw(field: string): unknown {
    return this.fields[field];
  }

  /** Throws a {@link ModelConfigError} about `field`. */
  error(field: string, what: string, v: unknown): never {
    return this.fail(field, what, v);
  }

  /** The input/output fields of {@link ClassifierIO}, validated, with defaults. */
  io(): ResolvedIO {
    return {
      inChannels: this.int('inChannels', 1),
      length: this.int('length'),
      rrFeatures: this.int('rrFeatures', undefined, 0),
      classes: this.int('classes'),
    };
  }
}

/** Config fields of {@link ClassifierIO}, for the `allowed` list of {@link ConfigReader}. */
export const IO_FIELDS = ['inChannels', 'length', 'rrFeatures', 'classes'] as const;

/** Parameters of Conv1d(in → out, kernel k) without bias: out·in·k. */
export function convParams(inC: number, outC: number, k: number): number {
  return outC * inC * k;
}

/** Parameters of a depthwise-separable conv without biases: depthwise in·k, pointwise in·out. */
export function separableParams(inC: number, outC: number, k: number): number {
  return inC * k + inC * outC;
}

/** Parameters of BatchNorm1d(c): scale γ and shift β (running statistics are buffers, not parameters). */
export function batchNormParams(c: number): number {
  return 2 * c;
}

/** Parameters of Linear(in → out) with bias: out·in + out. */
export function linearParams(inF: number, outF: number): number {
  return outF * inF + outF;
}
