/**
 * Chainable methods on Tensor (`x.add(y).relu().sum()`), attached to the prototype here so that tensor.ts
 * does not import the ops (no import cycle). Each method calls the functional op of the same name.
 */
import { type BackwardOptions, backward } from './autograd.js';
import type { DType } from './dtype.js';
import type { SliceSpec, TensorLike } from './ops/basic.js';
import * as B from './ops/basic.js';
import { matmul } from './ops/matmul.js';
import { Tensor } from './tensor.js';

declare module './tensor.js' {
  interface Tensor {
    /** Reverse-mode autodiff from this tensor; see {@link backward}. */
    backward(grad?: Tensor, opts?: BackwardOptions): void;
    /** {@link B.add} */
    add(other: TensorLike): Tensor;
    /** {@link B.sub} */
    sub(other: TensorLike): Tensor;
    /** {@link B.mul} */
    mul(other: TensorLike): Tensor;
    /** {@link B.div} */
    div(other: TensorLike): Tensor;
    /** {@link B.pow} */
    pow(other: TensorLike): Tensor;
    /** {@link B.neg} */
    neg(): Tensor;
    /** {@link B.exp} */
    exp(): Tensor;
    /** {@link B.log} */
    log(): Tensor;
    /** {@link B.sqrt} */
    sqrt(): Tensor;
    /** {@link B.abs} */
    abs(): Tensor;
    /** {@link B.tanh} */
    tanh(): Tensor;
    /** {@link B.sigmoid} */
    sigmoid(): Tensor;
    /** {@link B.relu} */
    relu(): Tensor;
    /** {@link B.clamp} */
    clamp(min?: number, max?: number): Tensor;
    /** {@link B.maximum} */
    maximum(other: TensorLike): Tensor;
    /** {@link B.minimum} */
    minimum(other: TensorLike): Tensor;
    /** {@link B.eq} */
    eq(other: TensorLike): Tensor;
    /** {@link B.ne} */
    ne(other: TensorLike): Tensor;
    /** {@link B.lt} */
    lt(other: TensorLike): Tensor;
    /** {@link B.le} */
    le(other: TensorLike): Tensor;
    /** {@link B.gt} */
    gt(other: TensorLike): Tensor;
    /** {@link B.ge} */
    ge(other: TensorLike): Tensor;
    /** {@link B.sum} */
    sum(axes?: number | readonly number[], keepDims?: boolean): Tensor;
    /** {@link B.mean} */
    mean(axes?: number | readonly number[], keepDims?: boolean): Tensor;
    /** {@link B.max} */
    max(axes?: number | readonly number[], keepDims?: boolean): Tensor;
    /** {@link B.min} */
    min(axes?: number | readonly number[], keepDims?: boolean): Tensor;
    /** {@link B.argmax} */
    argmax(axis?: number, keepDims?: boolean): Tensor;
    /** {@link B.argmin} */
    argmin(axis?: number, keepDims?: boolean): Tensor;
    /** {@link B.variance} */
    var(axes?: number | readonly number[], opts?: { keepDims?: boolean; correction?: number }): Tensor;
    /** {@link B.logsumexp} */
    logsumexp(axes?: number | readonly number[], keepDims?: boolean): Tensor;
    /** {@link B.reshape} */
    reshape(...shape: number[] | [readonly number[]]): Tensor;
    /** {@link B.permute} */
    permute(...perm: number[] | [readonly number[]]): Tensor;
    /** {@link B.transpose} */
    transpose(dim0?: number, dim1?: number): Tensor;
    /** {@link B.expand} */
    expand(...shape: number[] | [readonly number[]]): Tensor;
    /** {@link B.unsqueeze} */
    unsqueeze(axis: number): Tensor;
    /** {@link B.squeeze} */
    squeeze(axes?: number | readonly number[]): Tensor;
    /** {@link B.flatten} */
    flatten(startDim?: number, endDim?: number): Tensor;
    /** {@link B.slice} */
    slice(spec: SliceSpec): Tensor;
    /** {@link B.narrow} */
    narrow(axis: number, start: number, length: number): Tensor;
    /** {@link matmul} */
    matmul(other: Tensor): Tensor;
    /** {@link B.to} */
    to(dtype: DType): Tensor;
    /** `to('float32')`. */
    float(): Tensor;
    /** `to('float64')`. */
    double(): Tensor;
    /** `to('int32')` (truncates toward zero). */
    int(): Tensor;
    /** {@link B.gather} */
    gather(axis: number, index: Tensor): Tensor;
    /** {@link B.indexSelect} */
    indexSelect(axis: number, index: Tensor): Tensor;
    /** {@link B.pad} */
    pad(pads: ReadonlyArray<readonly [number, number]>, value?: number, opts?: { allAxes?: boolean }): Tensor;
    /** {@link B.split} */
    split(size: number, axis?: number): Tensor[];
  }
}

function shapeArgs(args: number[] | [readonly number[]]): readonly number[] {
  return Array.isArray(args[0]) ? (args[0] as readonly number[]) : (args as number[]);
}

const P = Tensor.prototype;
P.backward = function (this: Tensor, grad?: Tensor, opts?: BackwardOptions) {
  backward(this, grad, opts);
};
P.add = function (o) {
  return B.add(this, o);
};
P.sub = function (o) {
  return B.sub(this, o);
};
P.mul = function (o) {
  return B.mul(this, o);
};
P.div = function (o) {
  return B.div(this, o);
};
P.pow = function (o) {
  return B.pow(this, o);
};
P.neg = function () {
  return B.neg(this);
};
P.exp = function () {
  return B.exp(this);
};
P.log = function () {
  return B.log(this);
};
P.sqrt = function () {
  return B.sqrt(this);
};
P.abs = function () {
  return B.abs(this);
};
P.tanh = function () {
  return B.tanh(this);
};
P.sigmoid = function () {
  return B.sigmoid(this);
};
P.relu = function () {
  return B.relu(this);
};
P.clamp = function (lo, hi) {
  return B.clamp(this, lo, hi);
};
P.maximum = function (o) {
  return B.maximum(this, o);
};
P.minimum = function (o) {
  return B.minimum(this, o);
};
P.eq = function (o) {
  return B.eq(this, o);
};
P.ne = function (o) {
  return B.ne(this, o);
};
P.lt = function (o) {
  return B.lt(this, o);
};
P.le = function (o) {
  return B.le(this, o);
};
P.gt = function (o) {
  return B.gt(this, o);
};
P.ge = function (o) {
  return B.ge(this, o);
};
P.sum = function (a, k) {
  return B.sum(this, a, k);
};
P.mean = function (a, k) {
  return B.mean(this, a, k);
};
P.max = function (a, k) {
  return B.max(this, a, k);
};
P.min = function (a, k) {
  return B.min(this, a, k);
};
P.argmax = function (a, k) {
  return B.argmax(this, a, k);
};
P.argmin = function (a, k) {
  return B.argmin(this, a, k);
};
P.var = function (a, o) {
  return B.variance(this, a, o);
};
P.logsumexp = function (a, k) {
  return B.logsumexp(this, a, k);
};
P.reshape = function (...s) {
  return B.reshape(this, shapeArgs(s));
};
P.permute = function (...p) {
  return B.permute(this, shapeArgs(p));
};
P.transpose = function (d0, d1) {
  return B.transpose(this, d0, d1);
};
P.expand = function (...s) {
  return B.expand(this, shapeArgs(s));
};
P.unsqueeze = function (a) {
  return B.unsqueeze(this, a);
};
P.squeeze = function (a) {
  return B.squeeze(this, a);
};
P.flatten = function (s, e) {
  return B.flatten(this, s, e);
};
P.slice = function (spec) {
  return B.slice(this, spec);
};
P.narrow = function (a, s, l) {
  return B.narrow(this, a, s, l);
};
P.matmul = function (o) {
  return matmul(this, o);
};
P.to = function (d) {
  return B.to(this, d);
};
P.float = function () {
  return B.to(this, 'float32');
};
P.double = function () {
  return B.to(this, 'float64');
};
P.int = function () {
  return B.to(this, 'int32');
};
P.gather = function (a, i) {
  return B.gather(this, a, i);
};
P.indexSelect = function (a, i) {
  return B.indexSelect(this, a, i);
};
P.pad = function (p, v, o) {
  return B.pad(this, p, v, o);
};
P.split = function (s, a) {
  return B.split(this, s, a);
};
