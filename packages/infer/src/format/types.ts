/** Types of the ecgnn model file header (see docs/model-format.md). */
import type { RrFeatureName } from '@ecgnn/dsp';

export type { RrFeatureName };

/**
 * Storage dtypes of tensors in the blob.
 * - `float32`: IEEE binary32, little-endian.
 * - `float16`: IEEE binary16, little-endian (storage only; widened to float32 at load).
 * - `int8`: signed bytes with a `scale` (value = int8 · scale; widened to float32 at load).
 * - `int32`: little-endian signed 32-bit integers (e.g. folded binary thresholds).
 * - `bits`: ±1 values bit-packed into little-endian `Uint32` words along `packAxis` (see binary/conventions.ts).
 */
export type DType = 'float32' | 'float16' | 'int8' | 'int32' | 'bits';

/** Sparse storage of a pruned tensor: only non-zero values are stored. */
export interface SparseInfo {
  /**
   * `bitmap`: `ceil(n/8)` bytes (bit i of byte i>>3 = element i is non-zero, LSB first), zero padding to a
   * multiple of 4 bytes, then the `nnz` values. `index`: `nnz` little-endian uint32 element indices (strictly
   * increasing), then the `nnz` values.
   */
  format: 'bitmap' | 'index';
  /** Number of stored (non-zero) values. */
  nnz: number;
}

/** One entry of the header's tensor table. */
export interface TensorEntry {
  /** Unique name, referenced by graph nodes. */
  name: string;
  dtype: DType;
  /** Logical shape (for `bits`, the unpacked ±1 shape). */
  shape: number[];
  /** Byte offset inside the blob; a multiple of 64. */
  offset: number;
  /** Exact number of bytes the tensor occupies in the blob. */
  byteLength: number;
  /** `int8` only: dequantisation scale, a finite positive number. */
  scale?: number;
  /** `bits` only: the packed axis (default 1, the input-channel axis of conv/dense weights). */
  packAxis?: number;
  /** Present when the tensor is stored sparse (float32/float16/int8 only). */
  sparse?: SparseInfo;
}

/** One node of the architecture graph. Values are named; every value is produced exactly once. */
export interface NodeSpec {
  /** Operator name, e.g. `conv1d`, `binaryConv1d`, `maxPool1d`, `linear` (see docs/model-format.md). */
  op: string;
  /** Names of input values. */
  inputs: string[];
  /** Names of output values (exactly one for every current op). */
  outputs: string[];
  /** Operator attributes (JSON). */
  attrs?: Record<string, unknown>;
  /** Role → tensor name, e.g. `{ weight: 'conv1.weight', bias: 'conv1.bias' }`. */
  tensors?: Record<string, string>;
}

/** Architecture graph with named inputs and outputs (format version 2; version-1 files are normalised to it). */
export interface GraphSpec {
  /** Named inputs, per sample (no batch dimension). */
  inputs: GraphInputSpec[];
  /** Named output values; `outputs[0]` is what `logits`/`predict` return (a float `[classes]` vector). */
  outputs: string[];
  /** Nodes in execution (topological) order. */
  nodes: NodeSpec[];
}

/** One named graph input. */
export interface GraphInputSpec {
  /** Value name, referenced by nodes. */
  name: string;
  /** Per-sample shape: `[channels, length]` for a waveform window, `[features]` for a vector. */
  shape: number[];
  /** How `createClassifier` computes it from raw ECG (an app passing inputs itself may ignore it). */
  source: InputSource;
}

/** Where an input's values come from. */
export type InputSource =
  /** The preprocessed waveform window described by `header.input`, `windowing`, `preprocessing`. */
  | { kind: 'window' }
  /** RR-interval features of the beat the window is centred on (see @ecgnn/dsp `rrFeatures` / `normalizeRr`). */
  | { kind: 'rr'; features: RrFeatureName[]; localHalfWidth: number }
  /** Supplied by the caller (createClassifier cannot serve the model). */
  | { kind: 'external' };

/**
 * Version-1 graph: one input value (a float `[channels, length]` window, `header.input`) and one output value.
 * The reader normalises it to a {@link GraphSpec} (`inputs: [{ name: input, shape: [channels, length],
 * source: { kind: 'window' } }]`, `outputs: [output]`); `saveModel` accepts it too and writes version 2.
 */
export interface GraphSpecV1 {
  input: string;
  output: string;
  nodes: NodeSpec[];
}

/** The model's waveform input window (the graph input with source `window`, if any). */
export interface InputSpec {
  /** Number of leads / channels. */
  channels: number;
  /** Samples per window (at `sampleRate`). */
  length: number;
  /** Sampling rate in Hz the model was trained at. */
  sampleRate: number;
}

/** Preprocessing the streaming classifier applies to raw ECG before the model (in this order). */
export interface Preprocessing {
  /** Remove baseline wander (median filters) before anything else. Default false. */
  removeBaseline?: boolean;
  /** Butterworth band-pass `[lowHz, highHz]`, or absent for none. */
  bandpass?: [number, number];
  /** Band-pass filter order (default 2). */
  bandpassOrder?: number;
  /** Per-window normalisation: `zscore` (default) or `none`. */
  normalize?: 'zscore' | 'none';
  /** Epsilon added to the standard deviation by z-score (default 1e-8). */
  zscoreEps?: number;
}

/**
 * How windows are cut from a stream: `beat` windows are aligned on detected R peaks (`before` samples before
 * the peak, `length − before` from it on); `segment` windows are consecutive with `hop` samples between starts.
 */
export type Windowing = { mode: 'beat'; before: number } | { mode: 'segment'; hop: number };

/** The JSON header of a model file. */
export interface ModelHeader {
  /** Free-form model name. */
  name?: string;
  /**
   * The waveform window: channels, length and sampling rate. It describes the graph input whose source is
   * `window` (its shape must be `[channels, length]`); a model without one still states the rate its RR
   * features and windowing are computed at.
   */
  input: InputSpec;
  /** Class names, one per value of `graph.outputs[0]`. */
  classes: string[];
  /** Transform from graph output (logits) to probabilities. */
  outputActivation: 'softmax' | 'sigmoid' | 'none';
  preprocessing: Preprocessing;
  windowing: Windowing;
  graph: GraphSpec;
  tensors: TensorEntry[];
  /** Total blob length in bytes. */
  blobLength: number;
  /** Provenance: dataset, split, metrics, training method, … (free-form JSON object). */
  provenance: Record<string, unknown>;
}
