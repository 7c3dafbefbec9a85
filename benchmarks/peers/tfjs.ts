/**
 * TensorFlow.js engines (`tfjs-cpu`, `tfjs-wasm` with SIMD, 1 thread). Data is moved to tfjs'
 * channels-last layout before timing; each timed run includes reading the result back
 * (`dataSync`), as our kernels' runs include copying out of WebAssembly memory.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import {
  type CaseName,
  CONV1D,
  caseData,
  DEPTHWISE,
  ECG,
  type Engine,
  ecgFolded,
  ecgLayers,
  type Prepared,
} from './common.js';
import { nclToNlc, nlcToNcl, oikToKio } from './tfjs-layout.js';

const require = createRequire(import.meta.url);

function timed(make: () => tf.Tensor, toNcl: (d: Float32Array) => ArrayLike<number>, note: string): Prepared {
  let last: Float32Array = new Float32Array(0);
  return {
    run: () => {
      const y = tf.tidy(make);
      last = y.dataSync() as Float32Array;
      y.dispose();
    },
    output: () => toNcl(last),
    note,
  };
}

function prepareCase(name: CaseName, batch: number, note: string): Prepared {
  const d = caseData(name, batch) as unknown as Record<string, Float32Array>;
  switch (name) {
    case 'matmul-256': {
      const a = tf.tensor2d(d.a, [256, 256]);
      const b = tf.tensor2d(d.b, [256, 256]);
      return timed(
        () => tf.matMul(a, b),
        (y) => y,
        note,
      );
    }
    case 'conv1d': {
      const p = CONV1D;
      const x = tf.tensor3d(nclToNlc(d.x, p.batch, p.inChannels, p.inLength), [
        p.batch,
        p.inLength,
        p.inChannels,
      ]);
      const w = tf.tensor3d(oikToKio(d.w, p.outChannels, p.inChannels, p.kernelSize), [
        p.kernelSize,
        p.inChannels,
        p.outChannels,
      ]);
      return timed(
        () => tf.conv1d(x, w, 1, 'same'),
        (y) => nlcToNcl(y, p.batch, p.outChannels, p.outLength),
        note,
      );
    }
    case 'depthwise-conv1d': {
      const p = DEPTHWISE;
      const x = tf.tensor4d(nclToNlc(d.x, p.batch, p.inChannels, p.inLength), [
        p.batch,
        1,
        p.inLength,
        p.inChannels,
      ]);
      // depthwise filter [1, K, C, 1]: element (j, c) = w[c, 0, j]
      const wf = new Float32Array(p.kernelSize * p.inChannels);
      for (let c = 0; c < p.inChannels; c++)
        for (let j = 0; j < p.kernelSize; j++) wf[j * p.inChannels + c] = d.w[c * p.kernelSize + j];
      const w = tf.tensor4d(wf, [1, p.kernelSize, p.inChannels, 1]);
      return timed(
        () => tf.depthwiseConv2d(x, w, 1, 'same'),
        (y) => nlcToNcl(y, p.batch, p.outChannels, p.outLength),
        `${note}; depthwiseConv2d with height 1`,
      );
    }
    case 'ecg-cnn-ref': {
      const f = ecgFolded();
      const g = ecgLayers(batch);
      const { L1 } = g.lengths;
      const x = tf.tensor4d(d.x, [batch, 1, L1, 1]); // one channel: NCL = NLC
      const filt = (w: Float32Array, o: number, i: number, k: number) =>
        tf.tensor4d(oikToKio(w, o, i, k), [1, k, i, o]);
      const w1 = filt(f.w1, 16, 1, ECG.k1);
      const w2 = filt(f.w2, 32, 16, ECG.k2);
      const w3d = new Float32Array(ECG.k3 * 32);
      for (let c = 0; c < 32; c++) for (let j = 0; j < ECG.k3; j++) w3d[j * 32 + c] = f.w3[c * ECG.k3 + j];
      const w3 = tf.tensor4d(w3d, [1, ECG.k3, 32, 1]);
      const w4 = filt(f.w4, 64, 32, 1);
      const b1 = tf.tensor1d(f.b1);
      const b2 = tf.tensor1d(f.b2);
      const b4 = tf.tensor1d(f.b4);
      const w5 = tf.tensor2d(f.w5, [5, 64]);
      const b5 = tf.tensor1d(f.b5);
      const make = () => {
        let y: tf.Tensor4D = tf.fused.conv2d({
          x,
          filter: w1,
          strides: 1,
          pad: 'same',
          bias: b1,
          activation: 'relu',
        });
        y = tf.maxPool(y, [1, 2], [1, 2], 'valid');
        y = tf.fused.conv2d({ x: y, filter: w2, strides: 1, pad: 'valid', bias: b2, activation: 'relu' });
        y = tf.maxPool(y, [1, 2], [1, 2], 'valid');
        y = tf.depthwiseConv2d(y, w3, 1, 'valid');
        y = tf.fused.conv2d({ x: y, filter: w4, strides: 1, pad: 'valid', bias: b4, activation: 'relu' });
        const feat = tf.mean(y, [1, 2]) as tf.Tensor2D; // [batch, 64]
        // NOTE: plain matMul + add: tfjs-backend-wasm 4.22 fused.matMul({ transposeB, bias }) returned
        // results 6 % off the reference here (tfjs-cpu was right), so the fused form is not used.
        return tf.softmax(tf.add(tf.matMul(feat, w5, false, true), b5));
      };
      return timed(make, (y) => y, `${note}; fused conv2d(+bias+ReLU) with height 1, batchnorm folded`);
    }
    default:
      throw new Error(`unsupported case ${name}`);
  }
}

/** `tfjs-cpu` or `tfjs-wasm`. */
export function tfjsEngine(backend: 'cpu' | 'wasm'): Engine {
  // tfjs-backend-wasm has no gradient kernels for the convolutions: no training case there.
  const cases: CaseName[] = [
    'matmul-256',
    'conv1d',
    'depthwise-conv1d',
    'ecg-cnn-ref',
    ...(backend === 'cpu' ? (['train-step'] as const) : []),
  ];
  return {
    name: `tfjs-${backend}`,
    version: () => {
      const core = require('@tensorflow/tfjs-core/package.json').version;
      const be = require(`@tensorflow/tfjs-backend-${backend}/package.json`).version;
      return `@tensorflow/tfjs-core ${core}, tfjs-backend-${backend} ${be}`;
    },
    supports: (c) => cases.includes(c),
    async prepare(name, batch) {
      let note = 'tfjs-backend-cpu';
      if (backend === 'cpu') {
        await import('@tensorflow/tfjs-backend-cpu');
      } else {
        // Threads are impossible in Node (no cross-origin-isolated SharedArrayBuffer workers).
        await import('@tensorflow/tfjs-backend-wasm');
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      }
      if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialise`);
      await tf.ready();
      if (backend === 'wasm') {
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        if (!simd) throw new Error('tfjs-wasm without SIMD');
        note = 'tfjs-backend-wasm, SIMD on, 1 thread';
      }
      if (name === 'train-step') {
        // Loaded only here: the training case brings @ecgnn/core (its float64 reference) into the process.
        const { tfjsTrainCase } = await import('./tfjs-train.js');
        return tfjsTrainCase(batch, note);
      }
      return prepareCase(name, batch, note);
    },
  };
}
