/**
 * Slicing and joining primitives: slice, pad and concat (strided copies with the `copyStrided` kernel, pad's
 * border a `fill`), and the ops built on them (narrow, stack, split).
 */
import { kernels } from '../backend/backend.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import { type PrimitiveRule, run } from '../runtime.js';
import { normalizeAxis, shapesEqual, stridesOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { outputStorage, requireTensor, zeroedStorage } from './operands.js';
import { unsqueeze } from './shape.js';

declare module '../runtime.js' {
  interface PrimitiveAttrs {
    slice: { starts: number[]; ends: number[]; steps: number[] };
    pad: { pads: Array<[number, number]>; value: number };
    concat: { axis: number };
  }
}

function sliceLen(start: number, end: number, step: number): number {
  return Math.max(0, Math.ceil((end - start) / step));
}

/**
 * The strided view of a slice of a contiguous tensor of `shape`: the flat offset of its first element and
 * its strides (each axis' stride times the step).
 */
function sliceView(
  shape: readonly number[],
  starts: readonly number[],
  steps: readonly number[],
): { offset: number; strides: number[] } {
  const st = stridesOf(shape);
  let offset = 0;
  for (let d = 0; d < st.length; d++) offset += starts[d] * st[d];
  return { offset, strides: st.map((s, d) => s * steps[d]) };
}

const sliceRule: PrimitiveRule<{ starts: number[]; ends: number[]; steps: number[] }> = {
  forward: ([x], { starts, ends, steps }) => {
    const box = starts.map((s, d) => sliceLen(s, ends[d], steps[d]));
    const out = outputStorage('slice', x.dtype, box);
    const view = sliceView(x.shape, starts, steps);
    kernels().copyStrided(x.storage, view.offset, view.strides, out, 0, stridesOf(box), box);
    return new Tensor(out, box);
  },
  // g copied back into the sliced positions of a zero gradient.
  vjp: (g, { inputs: [x], attrs: { starts, steps } }) => {
    const gx = zeroedStorage('slice', g.dtype, x.shape);
    const view = sliceView(x.shape, starts, steps);
    kernels().copyStrided(g.storage, 0, stridesOf(g.shape), gx, view.offset, view.strides, g.shape);
    return [new Tensor(gx, x.shape)];
  },
};

/** A slice along one or more axes: `[start, end, step?]` per axis (Python semantics, negatives allowed). */
export type SliceSpec = Array<[number?, number?, number?] | null>;

/**
 * Slices `x`. `spec[i]` is `[start, end, step]` for axis i (null or missing = whole axis). Negative indices
 * count from the end; out-of-range bounds are clipped; step must be positive.
 */
export function slice(x: Tensor, spec: SliceSpec): Tensor {
  requireTensor('slice', x);
  if (!Array.isArray(spec as unknown))
    throw new ValueError(`slice: spec must be an array of [start, end, step] entries`);
  if (spec.length > x.ndim)
    throw new ShapeError(`slice: ${spec.length} axes given for ${fmtShape(x.shape)} (rank ${x.ndim})`);
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  for (let d = 0; d < x.ndim; d++) {
    const n = x.shape[d];
    const s = spec[d] ?? null;
    if (s !== null && (!Array.isArray(s) || s.length > 3)) {
      throw new ValueError(`slice: entry for axis ${d} must be [start?, end?, step?] or null`);
    }
    const step = s?.[2] ?? 1;
    if (!Number.isInteger(step) || step <= 0)
      throw new ValueError(`slice: step must be a positive integer, got ${step} for axis ${d}`);
    const norm = (v: number | undefined | null, dflt: number) => {
      if (v === undefined || v === null) return dflt;
      if (!Number.isInteger(v)) throw new ValueError(`slice: index ${v} for axis ${d} is not an integer`);
      const w = v < 0 ? v + n : v;
      return Math.min(Math.max(w, 0), n);
    };
    const start = norm(s?.[0], 0);
    const end = Math.max(norm(s?.[1], n), start);
    starts.push(start);
    ends.push(end);
    steps.push(step);
  }
  return run('slice', sliceRule, [x], { starts, ends, steps });
}

/** The `length` elements from `start` along `axis` (like `torch.narrow`; start ≥ 0). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  requireTensor('narrow', x);
  const a = normalizeAxis('narrow', axis, x.ndim);
  if (!Number.isInteger(start) || !Number.isInteger(length)) {
    throw new ValueError(`narrow: start (${start}) and length (${length}) must be integers`);
  }
  if (start < 0 || length < 0 || start + length > x.shape[a]) {
    throw new ShapeError(
      `narrow: [${start}, ${start + length}) is outside axis ${a} of ${fmtShape(x.shape)}`,
    );
  }
  const spec: SliceSpec = x.shape.map(() => null);
  spec[a] = [start, start + length, 1];
  return slice(x, spec);
}

const padRule: PrimitiveRule<{ pads: Array<[number, number]>; value: number }> = {
  forward: ([x], { pads, value }) => {
    const shape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
    // Zeroed storage needs no fill; any other value is filled first, then x copied into the interior.
    const out = value !== 0 ? outputStorage('pad', x.dtype, shape) : zeroedStorage('pad', x.dtype, shape);
    if (value !== 0) kernels().fill(out, value);
    const os = stridesOf(shape);
    let offset = 0;
    for (let d = 0; d < os.length; d++) offset += pads[d][0] * os[d];
    kernels().copyStrided(x.storage, 0, stridesOf(x.shape), out, offset, os, x.shape);
    return new Tensor(out, shape);
  },
  vjp: (g, { inputs: [x], attrs: { pads } }) => [
    slice(
      g,
      pads.map((p, i) => [p[0], p[0] + x.shape[i], 1]),
    ),
  ],
};

/**
 * Pads with a constant. `pads` lists `[before, after]` for the LAST dimensions (pads[0] is the last axis,
 * as torch.nn.functional.pad), or pass one pair per axis with `{allAxes: true}`.
 */
export function pad(
  x: Tensor,
  pads: ReadonlyArray<readonly [number, number]>,
  value = 0,
  opts: { allAxes?: boolean } = {},
): Tensor {
  requireTensor('pad', x);
  if (!Array.isArray(pads as unknown))
    throw new ValueError('pad: pads must be an array of [before, after] pairs');
  if (pads.length > x.ndim)
    throw new ShapeError(`pad: ${pads.length} pad pairs for ${fmtShape(x.shape)} (rank ${x.ndim})`);
  if (typeof value !== 'number') throw new ValueError(`pad: value must be a number, got ${typeof value}`);
  const full: Array<[number, number]> = x.shape.map(() => [0, 0]);
  pads.forEach((p, i) => {
    const axis = opts.allAxes ? i : x.ndim - 1 - i;
    if (!Array.isArray(p) || p.length !== 2) {
      throw new ValueError(`pad: entry ${i} must be a [before, after] pair, got ${JSON.stringify(p)}`);
    }
    for (const v of p)
      if (!Number.isInteger(v) || v < 0)
        throw new ValueError(`pad: pad sizes must be non-negative integers, got [${p.join(', ')}]`);
    full[axis] = [p[0], p[1]];
  });
  return run('pad', padRule, [x], { pads: full, value });
}

const concatRule: PrimitiveRule<{ axis: number }> = {
  forward: (xs, { axis }) => {
    const shape = [...xs[0].shape];
    shape[axis] = xs.reduce((s, t) => s + t.shape[axis], 0);
    const out = outputStorage('concat', xs[0].dtype, shape);
    const os = stridesOf(shape);
    let off = 0;
    for (const t of xs) {
      kernels().copyStrided(t.storage, 0, stridesOf(t.shape), out, off * os[axis], os, t.shape);
      off += t.shape[axis];
    }
    return new Tensor(out, shape);
  },
  vjp: (g, { inputs, attrs: { axis }, needsGrad }) => {
    let off = 0;
    return inputs.map((t, i) => {
      const n = t.shape[axis];
      const r = needsGrad[i] ? narrow(g, axis, off, n) : null;
      off += n;
      return r;
    });
  },
};

/** Joins tensors (same dtype, same shape outside `axis`) along an existing axis, into a new tensor. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs as unknown) || xs.length === 0)
    throw new ValueError('concat: needs a non-empty array of tensors');
  for (let i = 0; i < xs.length; i++) requireTensor(`concat (tensor ${i})`, xs[i]);
  if (xs[0].ndim === 0) throw new ShapeError('concat: rank-0 tensors cannot be concatenated; use stack');
  const a = normalizeAxis('concat', axis, xs[0].ndim);
  for (const t of xs) {
    if (t.dtype !== xs[0].dtype)
      throw new DTypeError(`concat: dtypes differ (${xs[0].dtype} and ${t.dtype})`);
    if (t.ndim !== xs[0].ndim || t.shape.some((d, i) => i !== a && d !== xs[0].shape[i])) {
      throw new ShapeError(
        `concat: shapes ${xs.map((u) => fmtShape(u.shape)).join(', ')} differ outside axis ${a}`,
      );
    }
  }
  return run('concat', concatRule, xs, { axis: a });
}

/** Joins tensors of equal shape along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs as unknown) || xs.length === 0)
    throw new ValueError('stack: needs a non-empty array of tensors');
  for (let i = 0; i < xs.length; i++) requireTensor(`stack (tensor ${i})`, xs[i]);
  for (const t of xs) {
    if (!shapesEqual(t.shape, xs[0].shape)) {
      throw new ShapeError(`stack: shapes differ: ${xs.map((u) => fmtShape(u.shape)).join(', ')}`);
    }
  }
  const a = normalizeAxis('stack', axis, xs[0].ndim + 1);
  return concat(
    xs.map((t) => unsqueeze(t, a)),
    a,
  );
}

/** Splits into chunks of `size` along `axis` (the last may be smaller). */
export function split(x: Tensor, size: number, axis = 0): Tensor[] {
  requireTensor('split', x);
  const a = normalizeAxis('split', axis, x.ndim);
  if (!Number.isInteger(size) || size <= 0)
    throw new ValueError(`split: size must be a positive integer, got ${size}`);
  const out: Tensor[] = [];
  for (let s = 0; s < x.shape[a]; s += size) out.push(narrow(x, a, s, Math.min(size, x.shape[a] - s)));
  return out;
}

/** The rules of this module, for the op table. */
export const sliceRules = {
  slice: sliceRule,
  pad: padRule,
  concat: concatRule,
};
