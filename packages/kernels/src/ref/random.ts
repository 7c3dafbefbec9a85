/** Reference random kernels: fills from a seeded {@link Generator}, in index order. */
import type { FloatArray, TypedArray } from '../contract.js';
import type { Generator } from '../random.js';
import { notImplemented } from './pending.js';

export function randomUniform(out: FloatArray, gen: Generator, low: number, high: number): void {
  notImplemented('randomUniform', out, gen, low, high);
}

export function randomNormal(out: FloatArray, gen: Generator, mean: number, std: number): void {
  notImplemented('randomNormal', out, gen, mean, std);
}

export function randomInt(out: TypedArray, gen: Generator, low: number, high: number): void {
  notImplemented('randomInt', out, gen, low, high);
}

export function randperm(out: Int32Array, gen: Generator): void {
  notImplemented('randperm', out, gen);
}

export function dropoutMask(mask: FloatArray, gen: Generator, p: number): void {
  notImplemented('dropoutMask', mask, gen, p);
}
